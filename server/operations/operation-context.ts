import type { JobTimeouts } from '../config/job-timeouts';
import type { JobRelay } from '../dbus/job-relay';
import type { UploadArea } from './upload-area';
import { type DbusJob, type OperationName, getOperation } from '../../protocol/operations';
import { GatewayError } from '../errors/error-catalogue';

/** What an operation works with besides its arguments. */
export interface OperationContext {
  readonly relay: JobRelay;
  readonly jobTimeouts: JobTimeouts;
  /** The call's private directory for received files (transfers). */
  readonly area: UploadArea;
  /** Aborted when the caller goes away. */
  readonly signal: AbortSignal;
  readonly onJobId: (jobId: number) => void;
  /** The Java client's positional form gives some paths a meaning of its own (snapshots). */
  readonly form: 'document' | 'positional';
}

/**
 * Runs one disnix-service job for an operation, under that operation's time limit: the job of
 * `job` (the operation itself, or the relayed operation a transfer goes `via`).
 * `abortable: false` is for jobs that read uploaded files: when the caller leaves, the gateway
 * still waits for the job, because the files are removed only once it has ended (the daemon may
 * not have opened them yet).
 */
export async function runJob(context: OperationContext, operation: OperationName, job: OperationName, args: readonly unknown[], abortable: boolean): Promise<{ jobId: number; results: string[] }> {
  const { jobId, results } = await context.relay.run({
    operation,
    job: dbusJobOf(job),
    args,
    timeoutMs: context.jobTimeouts[operation],
    signal: abortable ? context.signal : undefined,
    onJobId: context.onJobId,
  });
  return { jobId, results: [...results] };
}

function dbusJobOf(name: OperationName): DbusJob {
  const { dbus } = getOperation(name);
  if (!dbus) throw new GatewayError('GW_ERR_INTERNAL', `${name} is not one disnix-service job`);
  return dbus;
}
