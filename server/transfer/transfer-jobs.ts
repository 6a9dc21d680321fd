import type { DbusJob } from '../../protocol/operations';
import type { JobTimeouts } from '../config/job-timeouts';
import type { JobRelay } from '../dbus/job-relay';
import type { TransferOperationName } from './transfer-request';
import type { UploadArea } from './upload-area';

/** What a transfer operation works with besides its request. */
export interface TransferContext {
  readonly relay: JobRelay;
  readonly jobTimeouts: JobTimeouts;
  readonly area: UploadArea;
  /** Aborted when the caller goes away. */
  readonly signal: AbortSignal;
  readonly onJobId: (jobId: number) => void;
}

/**
 * Runs one disnix-service job for a transfer operation, under that operation's time limit.
 * `abortable: false` is for jobs that read the uploaded files: when the caller leaves, the
 * gateway still waits for the job, because the files are removed only once it has ended (the
 * daemon may not have opened them yet).
 */
export async function runJob(
  context: TransferContext,
  operation: TransferOperationName,
  job: DbusJob,
  args: unknown[],
  abortable: boolean,
): Promise<string[]> {
  const { results } = await context.relay.run({
    operation,
    job,
    args,
    timeoutMs: context.jobTimeouts[operation],
    signal: abortable ? context.signal : undefined,
    onJobId: context.onJobId,
  });
  return [...results];
}
