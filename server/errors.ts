/**
 * The gateway's error catalogue. Modules below the SOAP layer throw these; only the SOAP
 * service turns them into Faults, through `faultFor`.
 */
export const errorCodes = {
  GW_ERR_BAD_REQUEST: { faultcode: 'Client', statusCode: 500 },
  GW_ERR_JOB_FAILED: { faultcode: 'Server', statusCode: 500 },
  GW_ERR_JOB_TIMEOUT: { faultcode: 'Server', statusCode: 500 },
  GW_ERR_DAEMON_GONE: { faultcode: 'Server', statusCode: 500 },
  GW_ERR_DAEMON_UNAVAILABLE: { faultcode: 'Server', statusCode: 500 },
  GW_ERR_BUS_UNAVAILABLE: { faultcode: 'Server', statusCode: 500 },
  GW_ERR_DBUS_REJECTED: { faultcode: 'Server', statusCode: 500 },
  GW_ERR_RESULT: { faultcode: 'Server', statusCode: 500 },
  GW_ERR_CALLER_GONE: { faultcode: 'Client', statusCode: 500 },
  GW_ERR_SHUTTING_DOWN: { faultcode: 'Server', statusCode: 503 },
  GW_ERR_UPLOAD_STORAGE: { faultcode: 'Server', statusCode: 500 },
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
