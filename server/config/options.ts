/**
 * Every setting of the gateway: its flag, its environment variable and its help text. The
 * argument parser, the environment reader and `--help` are all derived from this list.
 */
export interface OptionSpec {
  readonly flag: string;
  /** A one-letter form of the flag (`-h`). */
  readonly short?: string;
  /** The variable, named after the flag: DISNIX_WEBSERVICE_<FLAG IN UPPER SNAKE CASE>. */
  readonly env?: string;
  /**
   * Earlier names of the variable, still read so that existing unit files keep working; the
   * variable above is preferred, and both set to different values is a start-up error.
   */
  readonly envAliases?: readonly string[];
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly value?: string;
  readonly help: string;
}

export const optionSpecs = {
  port: { flag: 'port', env: 'DISNIX_WEBSERVICE_PORT', type: 'string', value: 'PORT', help: 'TCP port to listen on (default: 8080)' },
  host: {
    flag: 'host',
    env: 'DISNIX_WEBSERVICE_HOST',
    type: 'string',
    value: 'ADDRESS',
    help: 'address to listen on (default: 0.0.0.0, every IPv4 address of this machine and no IPv6 one); :: takes every IPv6 and every IPv4 address (the gateway turns IPV6_V6ONLY off, whatever net.ipv6.bindv6only says), and fails to start where IPv6 is disabled',
  },
  path: {
    flag: 'path',
    env: 'DISNIX_WEBSERVICE_PATH',
    type: 'string',
    value: 'PATH',
    help: 'URL path of the service (default: /DisnixWebService/services/DisnixWebService); the WSDL is at PATH?wsdl',
  },
  username: { flag: 'username', env: 'DISNIX_WEBSERVICE_USERNAME', type: 'string', value: 'NAME', help: 'user name callers must present (HTTP basic auth)' },
  password: {
    flag: '',
    env: 'DISNIX_WEBSERVICE_PASSWORD',
    type: 'string',
    help: 'password for that user; deliberately no flag, so that it never shows in a process list',
  },
  passwordFile: {
    flag: 'password-file',
    env: 'DISNIX_WEBSERVICE_PASSWORD_FILE',
    type: 'string',
    value: 'FILE',
    help: 'file whose first line is the password (instead of DISNIX_WEBSERVICE_PASSWORD)',
  },
  htpasswd: {
    flag: 'htpasswd',
    env: 'DISNIX_WEBSERVICE_HTPASSWD',
    type: 'string',
    value: 'FILE',
    help: 'Apache htpasswd file of the users let in (bcrypt $2y$, $apr1$ or {SHA} entries), read again whenever it changes; may be combined with DISNIX_WEBSERVICE_USERNAME, whose password then wins for that name',
  },
  authFailureLimit: {
    flag: 'auth-failure-limit',
    env: 'DISNIX_WEBSERVICE_AUTH_FAILURE_LIMIT',
    type: 'string',
    value: 'COUNT/DURATION',
    help: 'refused logins one client address may make per period; after that it gets HTTP 429 with Retry-After until the period ends (default: 10/5m; 0: no limit)',
  },
  noAuthFrom: {
    flag: 'no-auth-from',
    env: 'DISNIX_WEBSERVICE_NO_AUTH_FROM',
    type: 'string',
    value: 'ADDRESSES',
    help: 'comma-separated addresses or CIDR ranges (or loopback, linklocal, uniquelocal) whose calls need no credentials: for coordinators with the original Java disnix-soap-client, which cannot answer a credential challenge (see README); behind a proxy, the client address it reports with --trust-proxy counts',
  },
  noAuth: {
    flag: 'no-auth',
    env: 'DISNIX_WEBSERVICE_NO_AUTH',
    type: 'boolean',
    help: 'accept calls without credentials (only on a loopback address or a unix socket, e.g. behind a proxy that authenticates)',
  },
  allowRemoteNoAuth: {
    flag: 'allow-remote-no-auth',
    env: 'DISNIX_WEBSERVICE_ALLOW_REMOTE_NO_AUTH',
    type: 'boolean',
    help: 'with --no-auth, listen on a non-loopback address anyway',
  },
  listenSocket: {
    flag: 'listen-socket',
    env: 'DISNIX_WEBSERVICE_LISTEN_SOCKET',
    envAliases: ['DISNIX_WEBSERVICE_SOCKET'],
    type: 'string',
    value: 'PATH',
    help: 'listen on this unix socket instead of TCP (for a proxy on the same machine); a stale socket file is replaced, and removed at exit',
  },
  socketMode: {
    flag: 'socket-mode',
    env: 'DISNIX_WEBSERVICE_SOCKET_MODE',
    type: 'string',
    value: 'MODE',
    help: 'permissions of the socket file, octal (default: 0660: the owner and the group may connect)',
  },
  trustProxy: {
    flag: 'trust-proxy',
    env: 'DISNIX_WEBSERVICE_TRUST_PROXY',
    type: 'string',
    value: 'ADDRESSES',
    help: 'comma-separated addresses or CIDR ranges of the proxies whose X-Forwarded-For/-Proto/-Host/-Port/-Prefix headers count: the WSDL then names the public URL and logs the real client; also the names loopback (unix-socket peers included), linklocal, uniquelocal',
  },
  tlsCert: {
    flag: 'tls-cert',
    env: 'DISNIX_WEBSERVICE_TLS_CERT',
    type: 'string',
    value: 'FILE',
    help: 'serve HTTPS with this PEM certificate (chain), for setups without a TLS-terminating proxy',
  },
  tlsKey: { flag: 'tls-key', env: 'DISNIX_WEBSERVICE_TLS_KEY', type: 'string', value: 'FILE', help: 'the unencrypted PEM private key of --tls-cert' },
  busAddress: {
    flag: 'bus-address',
    env: 'DISNIX_WEBSERVICE_BUS_ADDRESS',
    type: 'string',
    value: 'ADDRESS',
    help: 'D-Bus address where disnix-service runs, e.g. unix:path=/run/dbus/x (default: the system bus)',
  },
  sessionBus: {
    flag: 'session-bus',
    env: 'DISNIX_WEBSERVICE_SESSION_BUS',
    type: 'boolean',
    help: 'use the session bus (DBUS_SESSION_BUS_ADDRESS) instead of the system bus',
  },
  jobTimeout: {
    flag: 'job-timeout',
    env: 'DISNIX_WEBSERVICE_JOB_TIMEOUT',
    envAliases: ['DISNIX_WEBSERVICE_JOB_TIMEOUTS'],
    type: 'string',
    multiple: true,
    value: '[OP=]DURATION',
    help: 'how long a job may run before its call ends in a Fault, for every operation or one (repeatable; the variable takes a comma-separated list)',
  },
  maxBodySize: {
    flag: 'max-body-size',
    env: 'DISNIX_WEBSERVICE_MAX_BODY_SIZE',
    type: 'string',
    value: 'BYTES',
    help: 'largest SOAP request accepted, file contents excepted, e.g. 512k or 16m (default: 16m)',
  },
  jobHistory: {
    flag: 'job-history',
    env: 'DISNIX_WEBSERVICE_JOB_HISTORY',
    type: 'string',
    value: 'N',
    help: "how many of the latest calls the jobs page (at the service's base path) keeps in memory (default: 500)",
  },
  shutdownGrace: {
    flag: 'shutdown-grace',
    env: 'DISNIX_WEBSERVICE_SHUTDOWN_GRACE',
    type: 'string',
    value: 'DURATION',
    help: 'on SIGTERM or SIGINT, how long calls in flight may still finish; calls still running then end in a Fault (default: 30s)',
  },
  uploadDir: {
    flag: 'upload-dir',
    env: 'DISNIX_WEBSERVICE_UPLOAD_DIR',
    type: 'string',
    value: 'DIR',
    help: 'directory for uploaded closures and snapshots until disnix-service has imported them; it must be readable by disnix-service (default: the system temp directory)',
  },
  uploadStallTimeout: {
    flag: 'upload-stall-timeout',
    env: 'DISNIX_WEBSERVICE_UPLOAD_STALL_TIMEOUT',
    type: 'string',
    value: 'DURATION',
    help: "how long a request's body may send nothing before the gateway ends the call; a closure being imported while it arrives is then cut short, so the import fails (default: 2m)",
  },
  daemonTmpdir: {
    flag: 'daemon-tmpdir',
    env: 'DISNIX_WEBSERVICE_DAEMON_TMPDIR',
    type: 'string',
    value: 'DIR',
    help: "disnix-service's TMPDIR, where its export and capture_config jobs leave their files; the gateway removes those it has sent or read, which it may only where its group may delete them (default: /tmp, the daemon's own default)",
  },
  logLevel: { flag: 'log-level', env: 'DISNIX_WEBSERVICE_LOG_LEVEL', type: 'string', value: 'LEVEL', help: 'error, warn, info or debug (default: info)' },
  logFormat: {
    flag: 'log-format',
    env: 'DISNIX_WEBSERVICE_LOG_FORMAT',
    type: 'string',
    value: 'FORMAT',
    help: 'json (one object per line, for log collectors) or text (readable); default: text when stderr is a terminal, else json',
  },
  metricsListen: {
    flag: 'metrics-listen',
    env: 'DISNIX_WEBSERVICE_METRICS_LISTEN',
    type: 'string',
    value: 'HOST:PORT',
    help: "serve /metrics (and /healthz, /readyz) on this separate address, without auth, instead of at /metrics behind the service's auth",
  },
  help: { flag: 'help', short: 'h', type: 'boolean', help: 'show this help and exit' },
  version: { flag: 'version', short: 'V', type: 'boolean', help: 'show the version and exit' },
} as const satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof optionSpecs;
