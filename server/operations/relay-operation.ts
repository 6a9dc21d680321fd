import { open } from 'node:fs/promises';
import type { Segment } from '../../protocol/codec/message-writer';
import { returnElement } from '../../protocol/codec/soap-envelope';
import { type DbusJob, type OperationName, getOperation } from '../../protocol/operations';
import type { JobTimeouts } from '../config/job-timeouts';
import type { JobRelay } from '../dbus/job-relay';
import { GatewayError } from '../errors/error-catalogue';
import { type CheckedArguments, jobArguments } from './operation-arguments';
import type { StreamedImport } from './streamed-import';
import type { UploadArea } from './upload-area';

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
  /**
   * Hands over a file a job of this call wrote into the daemon's TMPDIR that nobody needs once the
   * call has ended (a streamed closure, a read configuration): it is removed then, however the
   * call ends (see DaemonTempFiles).
   */
  readonly discard: (path: string) => void;
  /** Removes such a file now, once it has served (see DaemonTempFiles); never fails. */
  readonly removeDaemonFile: (path: string) => Promise<void>;
  /** The import already under way for a closure received at this path (see streamed-import), if any. */
  readonly streamedImport?: (path: string) => StreamedImport | undefined;
}

/** What running a job needs of an operation's context. */
export type JobContext = Pick<OperationContext, 'relay' | 'jobTimeouts' | 'signal' | 'onJobId'>;

/**
 * Runs one disnix-service job for an operation, under that operation's time limit: the job of
 * `job` (the operation itself, or the relayed operation a transfer goes `via`).
 * `abortable: false` is for jobs that read uploaded files: when the caller leaves, the gateway
 * still waits for the job, because the files are removed only once it has ended (the daemon may
 * not have opened them yet).
 */
export async function runJob(
  context: JobContext,
  operation: OperationName,
  job: OperationName,
  args: readonly unknown[],
  abortable: boolean,
  onStarted?: () => void,
): Promise<{ jobId: number; results: string[] }> {
  const dbusJob = dbusJobOf(job);
  if (dbusJob.validPathsFirst) await requireValidPaths(context, operation, args[0] as readonly string[]);
  const { jobId, results } = await context.relay.run({
    operation,
    job: dbusJob,
    args,
    timeoutMs: context.jobTimeouts[operation],
    signal: abortable ? context.signal : undefined,
    onJobId: context.onJobId,
    onStarted,
  });
  return { jobId, results: [...results] };
}

/**
 * Answers a Fault naming the paths that are not valid on the target, found by a print_invalid job
 * of their own (under print_invalid's time limit, or the operation's if shorter): the job this
 * guards sends no signal when such a path makes it fail.
 */
async function requireValidPaths(context: JobContext, operation: OperationName, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  const { results } = await context.relay.run({
    operation,
    job: dbusJobOf('printInvalid'),
    args: [paths],
    timeoutMs: Math.min(context.jobTimeouts.printInvalid, context.jobTimeouts[operation]),
    signal: context.signal,
    onJobId: context.onJobId,
  });
  // The daemon answers [""] rather than [] for some empty lists.
  const invalid = results.filter((path) => path !== '');
  if (invalid.length > 0) {
    const shown = invalid.slice(0, 20).join(', ') + (invalid.length > 20 ? ` and ${invalid.length - 20} more` : '');
    throw new GatewayError('GW_ERR_BAD_REQUEST', `${operation}: these paths are not valid on the target, so nothing was exported: ${shown}`);
  }
}

function dbusJobOf(name: OperationName): DbusJob {
  const { dbus } = getOperation(name);
  if (!dbus) throw new GatewayError('GW_ERR_INTERNAL', `${name} is not one disnix-service job`);
  return dbus;
}

/** A captured configuration is a small Nix expression; anything far larger is not one. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Runs an operation that is one disnix-service job; answers its result as `return` elements. */
export async function relayOperation(name: OperationName, args: CheckedArguments, context: OperationContext): Promise<Segment[]> {
  const { result } = getOperation(name);
  // A file answered by its text is waited for even when the caller leaves: only this call learns
  // its name, and would leave it behind in the daemon's TMPDIR.
  const { jobId, results } = await runJob(context, name, name, jobArguments(args), result !== 'fileText');
  switch (result) {
    case 'none':
      return [];
    case 'strings':
      return results.map(returnElement);
    case 'string':
      return [returnElement(firstResult(name, jobId, results))];
    case 'fileText': {
      // `export`'s path ('string') is the caller's to use on the target, and stays.
      const path = firstResult(name, jobId, results);
      try {
        return [returnElement(await readResultFile(name, jobId, path))];
      } finally {
        // Before the answer goes: whoever has it finds the daemon's TMPDIR clean.
        await context.removeDaemonFile(path);
      }
    }
    default:
      throw new GatewayError('GW_ERR_RESULT', `${name} answers file contents, which a relayed job cannot`);
  }
}

function firstResult(name: string, jobId: number, results: readonly string[]): string {
  if (results.length === 0 || results[0] === '') {
    throw new GatewayError('GW_ERR_RESULT', `${name} job ${jobId} succeeded but disnix-service named no result path`);
  }
  return results[0];
}

async function readResultFile(name: string, jobId: number, path: string): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_CONFIG_BYTES) throw new Error(`it holds ${size} bytes, more than the ${MAX_CONFIG_BYTES} a configuration may`);
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new GatewayError('GW_ERR_RESULT', `${name} job ${jobId} wrote ${path}, which the gateway cannot read: ${reason}`, { cause: error });
  }
}
