import type { Request, Response } from 'express';
import type { OperationName } from '../../protocol/operations';
import type { JobTimeouts } from '../config/job-timeouts';
import type { JobRelay } from '../dbus/job-relay';
import type { CallContext, RecordedCall } from '../jobs-page/job-history';
import type { Logger } from '../logger';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import { reportCall, userOf, watchCall } from './call-report';
import type { RawArguments } from './operation-arguments';
import { type OperationResult, relayOperation } from './relay-operation';

export interface RelayedCallDeps {
  readonly relay: JobRelay;
  readonly jobTimeouts: JobTimeouts;
  readonly logger: Logger;
  /** Told of every call as it comes in: the jobs page's history. */
  readonly calls?: { callStarted(call: CallContext): RecordedCall };
  readonly metrics?: Pick<GatewayMetrics, 'countCall'>;
}

/**
 * One call of a relayed operation (one disnix-service job), whichever reader took its request
 * apart: watched for the caller leaving, shown on the jobs page, relayed, and reported in one
 * log line and the metrics. Rejects with the call's error; the caller shapes it into a Fault.
 */
export async function runRelayedCall(
  name: OperationName,
  args: RawArguments,
  req: Request,
  res: Response,
  deps: RelayedCallDeps,
): Promise<OperationResult> {
  const watch = watchCall(res);
  let jobId: number | undefined;
  const call = { operation: name, user: userOf(req), client: req.ip };
  const recorded = deps.calls?.callStarted({ ...call, args });
  try {
    const result = await relayOperation(name, args, {
      relay: deps.relay,
      jobTimeouts: deps.jobTimeouts,
      signal: watch.signal,
      onJobId: (id) => {
        jobId = id;
        recorded?.jobId(id);
      },
    });
    reportCall(deps, name, watch.elapsedMs(), { ...call, jobId });
    recorded?.ended();
    return result;
  } catch (error) {
    recorded?.ended(error);
    reportCall(deps, name, watch.elapsedMs(), { ...call, jobId }, error);
    throw error;
  } finally {
    watch.release();
  }
}
