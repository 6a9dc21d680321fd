import type { Request } from 'express';
import { formatDuration } from '../../protocol/durations';
import { GatewayError } from '../errors/error-catalogue';

/**
 * --upload-stall-timeout while a request's body is read: a caller that sends nothing for that
 * long is cut off, so that neither an upload in the gateway nor a closure import in the daemon
 * waits for it for ever. Only the caller's silence counts: while the gateway holds the body back
 * itself (a slow disk, nix-store busy adding a large path), the clock stands still. Released once
 * the body is read: a job may then run for hours.
 */
export interface StallLimit {
  /** Body bytes arrived. */
  touch(): void;
  /** The error to report for a failed read: a stall says so, anything else is kept. */
  explain(error: unknown): unknown;
  release(): void;
}

export function stallLimit(req: Request, limitMs: number | undefined): StallLimit {
  if (limitMs === undefined || limitMs <= 0) return { touch: () => undefined, explain: (error) => error, release: () => undefined };
  let last = Date.now();
  let stalled = false;
  const check = setInterval(
    () => {
      const now = Date.now();
      if (req.isPaused()) last = now;
      else if (now - last >= limitMs) {
        stalled = true;
        clearInterval(check);
        req.destroy();
      }
    },
    Math.max(10, Math.min(1000, limitMs / 4)),
  );
  check.unref();
  return {
    touch: () => {
      last = Date.now();
    },
    explain: (error) =>
      stalled
        ? new GatewayError(
            'GW_ERR_CALLER_GONE',
            `the caller sent nothing for ${formatDuration(limitMs)} (--upload-stall-timeout); its request was abandoned, and an import under way for it fails`,
            { cause: error },
          )
        : error,
    release: () => clearInterval(check),
  };
}
