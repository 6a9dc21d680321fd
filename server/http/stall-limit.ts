import type { Request } from 'express';
import { formatDuration } from '../../protocol/durations';
import { GatewayError } from '../errors/error-catalogue';

/**
 * --upload-stall-timeout while a request's body is read: a caller that sends nothing for that
 * long is cut off, so that neither an upload in the gateway nor a closure import in the daemon
 * waits for it for ever. Released once the body is read: a job may then run for hours. Only
 * the caller's silence counts: while the gateway itself does not read (a slow import), the
 * socket is idle too, but the caller is not stalled.
 */
export interface StallLimit {
  /** The error to report for a failed read: a stall says so, anything else is kept. */
  explain(error: unknown): unknown;
  release(): void;
}

export function stallLimit(req: Request, limitMs: number | undefined): StallLimit {
  if (limitMs === undefined || limitMs <= 0) return { explain: (error) => error, release: () => undefined };
  let stalled = false;
  const onTimeout = () => {
    // The socket was idle because the gateway did not read: its reader holds the body back
    // while the import does not keep up (or has not taken what is buffered). That is no stall
    // of the caller's: the clock starts again, and runs on once the gateway reads again.
    if (req.isPaused() || req.readableLength > 0) {
      if (req.socket && !req.socket.destroyed) req.socket.setTimeout(limitMs);
      return;
    }
    stalled = true;
    req.destroy();
  };
  req.setTimeout(limitMs, onTimeout);
  return {
    explain: (error) =>
      stalled
        ? new GatewayError(
            'GW_ERR_CALLER_GONE',
            `the caller sent nothing for ${formatDuration(limitMs)} (--upload-stall-timeout); its request was abandoned, and an import under way for it fails`,
            {
              cause: error,
            },
          )
        : error,
    release() {
      req.off('timeout', onTimeout);
      if (req.socket && !req.socket.destroyed) req.socket.setTimeout(0);
    },
  };
}
