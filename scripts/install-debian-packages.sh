#!/usr/bin/env bash
# Installs the Debian packages that the demo or the tests need, only those missing.
# Usage: install-debian-packages.sh demo|test
set -euo pipefail

need=()
want() { # want COMMAND-CHECK PACKAGE
  if ! eval "$1" >/dev/null 2>&1; then need+=("$2"); fi
}

want 'command -v dbus-daemon' dbus-daemon
if [ "${1:-test}" = test ]; then
  want 'command -v xmllint' libxml2-utils
  want '/usr/bin/python3 -c "import zeep"' python3-zeep
fi

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing Debian packages: ${need[*]}; install them (apt-get install ${need[*]}) and run again" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
