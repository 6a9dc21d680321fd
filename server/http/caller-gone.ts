import type { Request } from 'express';

/**
 * True when reading a request failed because its caller hung up (Node's 'aborted', a reset,
 * raw-body's request.aborted): nothing is wrong with the gateway and nobody is left to answer,
 * so it is worth a log line, not an error with a stack trace.
 */
export function callerWentAway(error: unknown, req: Request): boolean {
  const { code, type, message } = (error ?? {}) as { code?: unknown; type?: unknown; message?: unknown };
  return type === 'request.aborted' || code === 'ECONNRESET' || code === 'ECONNABORTED' || (message === 'aborted' && (req.destroyed || req.socket.destroyed));
}
