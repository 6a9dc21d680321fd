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
  # The reverse-proxy tests start the real servers with their own configuration (apache2-bin:
  # the server and its modules, without Debian's service), a certificate and an htpasswd file.
  want 'test -x /usr/sbin/nginx' nginx
  want 'test -x /usr/sbin/apache2' apache2-bin
  want 'test -x /usr/bin/htpasswd' apache2-utils
  want 'test -x /usr/bin/openssl' openssl
  # The jobs page's browser test drives Debian's chromium through playwright-core (no browser download).
  want 'test -x /usr/bin/chromium' chromium
  # The sysusers.d file is applied into a temporary root; the man pages are rendered with man -l.
  want 'command -v systemd-sysusers' systemd
  want 'command -v man' man-db
fi

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing Debian packages: ${need[*]}; install them (apt-get install ${need[*]}) and run again" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
