import { appendFileSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DemoEnv } from './demo-layout';
import { errorText } from './demo-job-error';

/** How a job ends when it succeeds: the signal and, for `success`, its string list. */
export type JobOutcome = { readonly signal: 'finish' } | { readonly signal: 'success'; readonly paths: string[] };

export const finished: JobOutcome = { signal: 'finish' };
export const succeeded = (paths: string[]): JobOutcome => ({ signal: 'success', paths });

/** What a running job can do besides its work: write its log. */
export interface JobContext {
  readonly pid: number;
  log(line: string): void;
}

export interface JobMethod {
  /** D-Bus signature of the arguments after the job id. */
  readonly signature: string;
  /** The real daemon sends no signal at all when export or capture_config fails. */
  readonly failsSilently?: boolean;
  /** The first line of the job's log, worded as the real daemon words it (none: empty log). */
  header?(args: unknown[]): string;
  /**
   * Work the real daemon does in its main loop before it answers the call, blocking it: import
   * opens its closure file there, and an open(2) of a named pipe waits for a writer. Its result
   * goes to `run`; what it throws fails the job.
   */
  beforeReply?(args: unknown[]): unknown;
  run(env: DemoEnv, job: JobContext, args: unknown[], prepared?: unknown): Promise<JobOutcome>;
}

export interface JobSignals {
  finish(pid: number): void;
  success(pid: number, paths: string[]): void;
  failure(pid: number): void;
}

/**
 * Runs jobs the way disnix-service does: the call only registers the job (creating its log
 * file), the work runs afterwards, and exactly one signal (or, for silent failures, none) tells
 * the outcome once the log holds everything.
 */
export class JobRunner {
  private lastId: number;

  constructor(
    private readonly env: DemoEnv,
    private readonly signals: JobSignals,
    private readonly jobDelayMs: number,
    lastUsedId: number,
  ) {
    this.lastId = lastUsedId;
  }

  nextId(): number {
    this.lastId = this.lastId >= 0x7fffffff ? 1 : this.lastId + 1;
    return this.lastId;
  }

  /**
   * Resolves when the method call may return; the job goes on in the background.
   *
   * The job's log is written with synchronous calls: its lines are tiny, and each asynchronous
   * write costs more than the write itself (three thread-pool round trips for a writeFile, each
   * waking a worker thread). On the shared 2-core benchmark machine the daemon's CPU per
   * sequential job fell from 1.1-1.4 ms to 0.35 ms with this and a synchronous query_installed.
   * Each line is on disk before the next statement, so the log is complete when the signal goes
   * out.
   */
  async start(method: JobMethod, pid: number, args: unknown[]): Promise<void> {
    const logFile = join(this.env.layout.logDir, String(pid));
    try {
      // 'wx' makes the log file itself the claim on the id: a reused id fails right here.
      writeFileSync(logFile, method.header ? `${method.header(args)}\n` : '', { flag: 'wx' });
    } catch {
      this.signals.failure(pid);
      return;
    }
    let prepared: { value?: unknown; error?: unknown } = {};
    try {
      prepared = { value: method.beforeReply?.(args) };
    } catch (error) {
      prepared = { error };
    }
    // After the method return is on the wire, so that even an instant job signals after it.
    setImmediate(() => void this.run(method, pid, args, logFile, prepared));
  }

  private async run(method: JobMethod, pid: number, args: unknown[], logFile: string, prepared: { value?: unknown; error?: unknown }): Promise<void> {
    const job: JobContext = {
      pid,
      log: (line) => {
        try {
          appendFileSync(logFile, `${line}\n`);
        } catch {
          // A log that cannot be written (its directory removed under a test) does not fail the job.
        }
      },
    };
    try {
      if ('error' in prepared) throw prepared.error;
      if (this.jobDelayMs > 0) await sleep(this.jobDelayMs);
      const outcome = await method.run(this.env, job, args, prepared.value);
      if (outcome.signal === 'finish') this.signals.finish(pid);
      else this.signals.success(pid, outcome.paths);
    } catch (error) {
      job.log(errorText(error));
      if (!method.failsSilently) this.signals.failure(pid);
    }
  }
}

/** The highest job id in the log directory, so that ids continue after a restart. */
export async function lastLoggedJobId(logDir: string): Promise<number> {
  let highest = 0;
  for (const name of await readdir(logDir).catch(() => [])) {
    if (/^\d+$/.test(name)) highest = Math.max(highest, Math.min(Number(name), 0x7fffffff - 1));
  }
  return highest;
}
