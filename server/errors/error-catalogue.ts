/**
 * The gateway's error catalogue: every error a caller can get, with the SOAP faultcode and the
 * HTTP status its Fault travels with. Modules throw GatewayErrors; only `faultFor` turns them
 * into Faults. README's "Errors" section lists the same codes (a unit test compares the two).
 *
 * A request that cannot be read as a SOAP 1.1 call gets a 4xx; a call that was read but fails
 * (its arguments, its job, the daemon) gets HTTP 500, as SOAP 1.1 (section 6.2) requires of a
 * Fault; 503 tells a caller to come back after a restart.
 */
export const errorCodes = {
  GW_ERR_UNREADABLE: { faultcode: 'Client', status: 400 },
  GW_ERR_TOO_LARGE: { faultcode: 'Client', status: 413 },
  GW_ERR_MEDIA_TYPE: { faultcode: 'Client', status: 415 },
  GW_ERR_BAD_REQUEST: { faultcode: 'Client', status: 500 },
  GW_ERR_CALLER_GONE: { faultcode: 'Client', status: 500 },
  GW_ERR_JOB_FAILED: { faultcode: 'Server', status: 500 },
  GW_ERR_JOB_TIMEOUT: { faultcode: 'Server', status: 500 },
  GW_ERR_DAEMON_GONE: { faultcode: 'Server', status: 500 },
  GW_ERR_DAEMON_UNAVAILABLE: { faultcode: 'Server', status: 500 },
  GW_ERR_BUS_UNAVAILABLE: { faultcode: 'Server', status: 500 },
  GW_ERR_DBUS_REJECTED: { faultcode: 'Server', status: 500 },
  GW_ERR_RESULT: { faultcode: 'Server', status: 500 },
  GW_ERR_UPLOAD_STORAGE: { faultcode: 'Server', status: 500 },
  GW_ERR_INTERNAL: { faultcode: 'Server', status: 500 },
  GW_ERR_SHUTTING_DOWN: { faultcode: 'Server', status: 503 },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}

export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof GatewayError;
}

/** The code an error counts under in logs and metrics: anything not thrown as a GatewayError is a bug of the gateway. */
export function errorCodeOf(error: unknown): ErrorCode {
  return isGatewayError(error) ? error.code : 'GW_ERR_INTERNAL';
}

export interface Fault {
  /** A QName in the `soap:` prefix of the envelope it goes in. */
  readonly faultcode: string;
  readonly faultstring: string;
  readonly status: number;
}

/**
 * The one place where errors become SOAP Faults and HTTP statuses. The original Java client's
 * positional form gets every Fault with HTTP 500, as the original service sent them.
 */
export function faultFor(error: unknown, form: 'document' | 'positional' = 'document'): Fault {
  const code = errorCodeOf(error);
  const { faultcode, status } = errorCodes[code];
  const faultstring = isGatewayError(error) ? error.message : 'internal error in the gateway; its log has the details';
  return { faultcode: `soap:${faultcode}`, faultstring, status: form === 'positional' ? 500 : status };
}
