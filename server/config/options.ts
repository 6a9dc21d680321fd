/**
 * Every setting of the gateway: its flag, its environment variable and its help text. The
 * argument parser, the environment reader and `--help` are all derived from this list.
 */
export interface OptionSpec {
  readonly flag: string;
  readonly env?: string;
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly value?: string;
  readonly help: string;
}

export const optionSpecs = {
  port: { flag: 'port', env: 'DISNIX_WEBSERVICE_PORT', type: 'string', value: 'PORT', help: 'TCP port to listen on (default: 8080)' },
  host: { flag: 'host', env: 'DISNIX_WEBSERVICE_HOST', type: 'string', value: 'ADDRESS', help: 'address to listen on (default: 0.0.0.0, every interface)' },
  path: { flag: 'path', env: 'DISNIX_WEBSERVICE_PATH', type: 'string', value: 'PATH', help: 'URL path of the service (default: /DisnixWebService/services/DisnixWebService); the WSDL is at PATH?wsdl' },
  username: { flag: 'username', env: 'DISNIX_WEBSERVICE_USERNAME', type: 'string', value: 'NAME', help: 'user name callers must present (HTTP basic auth)' },
  password: { flag: '', env: 'DISNIX_WEBSERVICE_PASSWORD', type: 'string', help: 'password for that user; deliberately no flag, so that it never shows in a process list' },
  passwordFile: { flag: 'password-file', env: 'DISNIX_WEBSERVICE_PASSWORD_FILE', type: 'string', value: 'FILE', help: 'file whose first line is the password (instead of DISNIX_WEBSERVICE_PASSWORD)' },
  noAuth: { flag: 'no-auth', env: 'DISNIX_WEBSERVICE_NO_AUTH', type: 'boolean', help: 'accept calls without credentials (only on a loopback address, e.g. behind a proxy that authenticates)' },
  allowRemoteNoAuth: { flag: 'allow-remote-no-auth', env: 'DISNIX_WEBSERVICE_ALLOW_REMOTE_NO_AUTH', type: 'boolean', help: 'with --no-auth, listen on a non-loopback address anyway' },
  busAddress: { flag: 'bus-address', env: 'DISNIX_WEBSERVICE_BUS_ADDRESS', type: 'string', value: 'ADDRESS', help: 'D-Bus address where disnix-service runs, e.g. unix:path=/run/dbus/x (default: the system bus)' },
  sessionBus: { flag: 'session-bus', env: 'DISNIX_WEBSERVICE_SESSION_BUS', type: 'boolean', help: 'use the session bus (DBUS_SESSION_BUS_ADDRESS) instead of the system bus' },
  jobTimeout: { flag: 'job-timeout', env: 'DISNIX_WEBSERVICE_JOB_TIMEOUTS', type: 'string', multiple: true, value: '[OP=]DURATION', help: 'how long a job may run before its call ends in a Fault, for every operation or one (repeatable; the variable takes a comma-separated list)' },
  maxBodySize: { flag: 'max-body-size', env: 'DISNIX_WEBSERVICE_MAX_BODY_SIZE', type: 'string', value: 'BYTES', help: 'largest SOAP request accepted, file contents excepted, e.g. 512k or 16m (default: 16m)' },
  logLevel: { flag: 'log-level', env: 'DISNIX_WEBSERVICE_LOG_LEVEL', type: 'string', value: 'LEVEL', help: 'error, warn, info or debug (default: info)' },
  help: { flag: 'help', type: 'boolean', help: 'show this help and exit' },
  version: { flag: 'version', type: 'boolean', help: 'show the version and exit' },
} as const satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof optionSpecs;
