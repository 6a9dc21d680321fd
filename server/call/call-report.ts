import type { Request, Response } from 'express';
import { errorCodeOf, isGatewayError } from '../errors/error-catalogue';
import type { Logger } from '../logging/logger';
import type { GatewayMetrics } from '../metrics/gateway-metrics';

/**
 * What the call path does around every call: notice the caller leaving, time the call, and
 * report its end in one log line and the metrics.
 */
export interface CallWatch {
  /** Aborted when the caller goes away before its answer was sent. */
  readonly signal: AbortSignal;
  elapsedMs(): number;
  /** Stops watching the response. */
  release(): void;
}

export function watchCall(res: Response): CallWatch {
  const started = process.hrtime.bigint();
  const aborter = new AbortController();
  const onClose = () => {
    if (!res.writableEnded) aborter.abort();
  };
  res.on('close', onClose);
  return {
    signal: aborter.signal,
    elapsedMs: () => Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
    release: () => res.off('close', onClose),
  };
}

export interface CallReportDeps {
  readonly logger: Logger;
  readonly metrics?: Pick<GatewayMetrics, 'countCall'>;
}

/**
 * The call's one log line (with the job's log or the stack on failure) and its count in the
 * metrics; `error` undefined means success. Metrics only for a call whose operation is known.
 */
export function reportCall(deps: CallReportDeps, operation: string | undefined, durationMs: number, meta: Record<string, unknown>, error?: unknown): void {
  const outcome = error === undefined ? 'success' : errorCodeOf(error);
  const line = { ...meta, durationMs, outcome };
  // Done once the answer is on its way, not before: formatting and writing a line through
  // winston (about 20 us) and a histogram's labelled update (another 20) are on no caller's
  // critical path there. The line keeps its request id, since an immediate runs in the async
  // context that scheduled it, and lines keep their order. Both are done before this turn of the
  // event loop reads any further request, such as a scrape of /metrics.
  setImmediate(() => {
    if (operation !== undefined) deps.metrics?.countCall(operation, outcome, durationMs / 1000);
    if (error === undefined) deps.logger.info('call', line);
    else if (isGatewayError(error)) deps.logger.warn('call', { ...line, log: error.message });
    else deps.logger.error('call', { ...line, log: (error as Error)?.stack ?? String(error) });
  });
}

/** The authenticated caller's name, as the auth middleware left it. */
export function userOf(req: Request): string | undefined {
  return (req as Request & { auth?: { user?: string } }).auth?.user;
}
