import { isGatewayError } from '../errors/error-catalogue';
import { type CallArguments, type ShownArgument, showArguments } from './job-arguments';

/**
 * How a call ended, as the jobs page tells it. `rejected`: it never became a job on the daemon
 * (a bad request, or the daemon or bus was not there), so there is no log; `aborted`: the
 * caller went away and the gateway stopped waiting, while the daemon may still run the job.
 */
export type JobOutcome = 'running' | 'success' | 'failure' | 'timeout' | 'lost' | 'aborted' | 'rejected';
export const JOB_OUTCOMES: readonly JobOutcome[] = ['running', 'success', 'failure', 'timeout', 'lost', 'aborted', 'rejected'];

/** What a SOAP handler knows when a call comes in. */
export interface CallContext {
  readonly operation: string;
  readonly args: CallArguments;
  readonly user?: string;
  readonly client?: string;
}

/** A call recorded in the history, as the page's JSON shows it. */
export interface JobView {
  /** The history's own number for the call (calls that were rejected have no job id). */
  readonly id: number;
  readonly jobId: number | null;
  readonly operation: string;
  readonly arguments: readonly ShownArgument[];
  readonly user: string | null;
  readonly client: string | null;
  readonly startedAt: string;
  /** So far, while the job runs. */
  readonly durationMs: number;
  readonly outcome: JobOutcome;
  /** Why it ended so, when its log does not tell (rejected, timed out, lost). */
  readonly message: string | null;
}

export interface JobFilter {
  readonly outcomes?: readonly JobOutcome[];
  readonly operations?: readonly string[];
}

/** A recorded call: its view, and a promise that resolves with its outcome once it ended. */
export interface JobEntry {
  view(now?: number): JobView;
  readonly jobId: number | undefined;
  readonly ended: Promise<JobOutcome>;
  readonly outcome: JobOutcome;
}

/** What the SOAP handler reports of a call, see `callStarted`. */
export interface RecordedCall {
  jobId(id: number): void;
  ended(error?: unknown): void;
}

const MAX_MESSAGE_CHARS = 500;

class Entry implements JobEntry {
  jobId: number | undefined;
  outcome: JobOutcome = 'running';
  message: string | null = null;
  endedAt: number | undefined;
  readonly ended: Promise<JobOutcome>;
  readonly #arguments: readonly ShownArgument[];
  #resolve!: (outcome: JobOutcome) => void;

  constructor(
    readonly id: number,
    readonly call: CallContext,
    readonly startedAt: number,
  ) {
    this.#arguments = showArguments(call.args);
    this.ended = new Promise((resolve) => (this.#resolve = resolve));
  }

  end(outcome: JobOutcome, message: string | null, at: number): void {
    if (this.outcome !== 'running') return;
    this.outcome = outcome;
    this.message = message;
    this.endedAt = at;
    this.#resolve(outcome);
  }

  view(now = Date.now()): JobView {
    const { id, jobId, call, startedAt, outcome, message } = this;
    return {
      id,
      jobId: jobId ?? null,
      operation: call.operation,
      arguments: this.#arguments,
      user: call.user ?? null,
      client: call.client ?? null,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: (this.endedAt ?? now) - startedAt,
      outcome,
      message,
    };
  }
}

/**
 * The calls relayed since start-up, newest last, at most `limit` of them: the oldest go first,
 * running or not (memory stays bounded however long the gateway runs).
 */
export class JobHistory {
  readonly #entries: Entry[] = [];
  readonly #byJobId = new Map<number, Entry>();
  #lastId = 0;

  constructor(
    readonly limit: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Records a call as it comes in; the handler then tells its job id and its end. */
  callStarted(call: CallContext): RecordedCall {
    const entry = new Entry(++this.#lastId, call, this.clock());
    this.#entries.push(entry);
    while (this.#entries.length > this.limit) this.#forget(this.#entries.shift()!);
    return {
      jobId: (id) => {
        // A call that runs several jobs shows its latest: the one that failed, if any did.
        if (entry.jobId !== undefined && this.#byJobId.get(entry.jobId) === entry) this.#byJobId.delete(entry.jobId);
        entry.jobId = id;
        if (this.#entries.includes(entry)) this.#byJobId.set(id, entry);
      },
      ended: (error) => {
        const [outcome, message] = error === undefined ? (['success', null] as const) : classify(error, entry.jobId);
        entry.end(outcome, message, this.clock());
      },
    };
  }

  /** Most recent first. */
  list(filter: JobFilter = {}): JobView[] {
    const now = this.clock();
    const views: JobView[] = [];
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i];
      if (filter.outcomes && !filter.outcomes.includes(entry.outcome)) continue;
      if (filter.operations && !filter.operations.includes(entry.call.operation)) continue;
      views.push(entry.view(now));
    }
    return views;
  }

  /** Only jobs of the history have readable logs: an id is never turned into a path otherwise. */
  findJob(jobId: number): JobEntry | undefined {
    return this.#byJobId.get(jobId);
  }

  #forget(entry: Entry): void {
    if (entry.jobId !== undefined && this.#byJobId.get(entry.jobId) === entry) this.#byJobId.delete(entry.jobId);
  }
}

/** Read from the gateway's error codes, the same ones its log lines carry. */
function classify(error: unknown, jobId: number | undefined): [JobOutcome, string | null] {
  const message = firstLine(error instanceof Error ? error.message : String(error));
  if (!isGatewayError(error)) return [jobId === undefined ? 'rejected' : 'failure', message];
  switch (error.code) {
    case 'GW_ERR_JOB_FAILED':
      return ['failure', null]; // its message is the job's log, which the page shows anyway
    case 'GW_ERR_JOB_TIMEOUT':
      return ['timeout', message];
    case 'GW_ERR_CALLER_GONE':
      return ['aborted', message];
    case 'GW_ERR_DAEMON_GONE':
    case 'GW_ERR_BUS_UNAVAILABLE':
      return [jobId === undefined ? 'rejected' : 'lost', message];
    default:
      return [jobId === undefined ? 'rejected' : 'failure', message];
  }
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0];
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS)}…` : line;
}
