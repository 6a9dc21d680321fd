import { EventEmitter } from 'node:events';
import type * as dbus from 'dbus-next';
import type { DbusJob } from '../../protocol/operations';
import { formatDuration } from '../../protocol/durations';
import { GatewayError } from '../errors/error-catalogue';
import type { Logger } from '../logging/logger';
import { currentRequestId, runWithRequestId } from '../logging/request-context';
import type { DisnixBus } from './bus-connection';
import { JOB_SIGNALS, type JobSignal } from './disnix-interface';
import { type IssuedJobId, JobIdPool } from './job-id-pool';
import { readJobLog } from './job-log';

export interface JobRequest {
  /** The SOAP operation, for messages. */
  readonly operation: string;
  readonly job: DbusJob;
  readonly args: readonly unknown[];
  readonly timeoutMs: number;
  /** Aborting (the caller went away) forgets the job; the daemon still finishes it. */
  readonly signal?: AbortSignal;
  readonly onJobId?: (jobId: number) => void;
  /** The daemon has answered the job's method call (it has done what it does before answering). */
  readonly onStarted?: () => void;
}

export interface JobOutcome {
  readonly jobId: number;
  readonly results: readonly string[];
}

export interface JobEvents {
  started: [info: { jobId: number; operation: string }];
  ended: [info: { jobId: number; operation: string; outcome: 'success' | 'failure' | 'timeout' | 'lost' | 'aborted' }];
}

interface PendingJob {
  readonly jobId: number;
  readonly owner: string;
  readonly request: JobRequest;
  settle(outcome: { signal: JobSignal; results: string[] } | Error): void;
  /** Runs a task as part of the call that started the job, so that its log lines name that call. */
  inCallContext(task: () => void): void;
}

/** Daemon errors that mean "nobody is there to run the job". */
const ABSENT_DAEMON_ERRORS = new Set([
  'org.freedesktop.DBus.Error.ServiceUnknown',
  'org.freedesktop.DBus.Error.NameHasNoOwner',
  'org.freedesktop.DBus.Error.NoReply',
]);

/** Job ids kept ready: enough that a burst of calls rarely waits for one, few enough to waste nothing. */
const JOB_ID_POOL_SIZE = 16;

/**
 * Runs deployment jobs on disnix-service: one job id per call, the signals matched by the
 * sender and job id, any number of jobs at once. Every job ends: by its signal, by its time
 * limit, or when the daemon or the bus goes away.
 */
export class JobRelay extends EventEmitter<JobEvents> {
  readonly #pending = new Map<string, PendingJob>();
  readonly #logDirs = new Map<string, Promise<string>>();
  readonly #jobIds: JobIdPool;

  constructor(
    private readonly bus: DisnixBus,
    private readonly logger: Logger,
  ) {
    super();
    this.#jobIds = new JobIdPool(
      () => this.#newJobId(),
      () => bus.daemonOwner,
      JOB_ID_POOL_SIZE,
    );
    bus.on('jobSignal', (message) => this.#onSignal(message));
    bus.on('ownerChanged', (oldOwner) => {
      this.#jobIds.clear();
      if (oldOwner !== '') this.#failWhere((job) => job.owner === oldOwner, 'GW_ERR_DAEMON_GONE', 'disnix-service left the bus');
    });
    bus.on('disconnected', (reason) => {
      this.#jobIds.clear();
      this.#failWhere(() => true, 'GW_ERR_BUS_UNAVAILABLE', `the D-Bus connection was lost (${reason.message})`);
    });
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  async run(request: JobRequest): Promise<JobOutcome> {
    request.signal?.throwIfAborted();
    const { jobId, owner } = this.#jobIds.take() ?? (await this.#newJobId());
    request.onJobId?.(jobId);
    // Known before the job runs, so that a Fault can carry its log even if the daemon dies.
    await this.#logDir(owner).catch(() => undefined);

    // Registered before the job's method is called: its signal may come before the reply.
    const outcome = this.#track(jobId, owner, request);
    try {
      await this.#callDaemon(request.job.method, `i${request.job.signature}`, [jobId, ...request.args]);
      this.emit('started', { jobId, operation: request.operation });
      request.onStarted?.();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const refused = new GatewayError(
        error instanceof GatewayError ? error.code : 'GW_ERR_DBUS_REJECTED',
        `${request.operation} job ${jobId} could not be started: ${reason}`,
        { cause: error },
      );
      this.#pending.get(key(owner, jobId))?.settle(refused);
    }
    const { signal, results } = await outcome;
    if (signal === 'failure') {
      const log = await this.#log(owner, jobId);
      throw new GatewayError('GW_ERR_JOB_FAILED', log.trim() === '' ? `${request.operation} job ${jobId} failed and left no log` : log);
    }
    return { jobId, results };
  }

  async #newJobId(): Promise<IssuedJobId> {
    const reply = await this.#callDaemon('get_job_id', '', []);
    return { jobId: reply.body[0] as number, owner: reply.sender };
  }

  async #callDaemon(member: string, signature: string, body: unknown[]): Promise<dbus.Message> {
    try {
      return await this.bus.call(member, signature, body);
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      const name = (error as dbus.DBusError).type ?? '';
      if (ABSENT_DAEMON_ERRORS.has(name)) {
        throw new GatewayError('GW_ERR_DAEMON_UNAVAILABLE', `disnix-service is not running: nobody owns org.nixos.disnix.Disnix on ${this.bus.address}`, {
          cause: error,
        });
      }
      const text = (error as dbus.DBusError).text ?? (error as Error).message;
      throw new GatewayError('GW_ERR_DBUS_REJECTED', `disnix-service refused ${member}: ${name} ${text}`.trim(), { cause: error });
    }
  }

  #track(jobId: number, owner: string, request: JobRequest): Promise<{ signal: JobSignal; results: string[] }> {
    return new Promise((resolve, reject) => {
      const id = key(owner, jobId);
      const onAbort = () => job.settle(new GatewayError('GW_ERR_CALLER_GONE', `the caller went away; job ${jobId} goes on without it`));
      const timer = setTimeout(() => {
        void this.#log(owner, jobId).then((log) =>
          job.settle(
            this.#unanswered(request, jobId, `got no answer from disnix-service within ${formatDuration(request.timeoutMs)}`, log, 'GW_ERR_JOB_TIMEOUT'),
          ),
        );
      }, request.timeoutMs);
      // The call's request id, not a bound AsyncResource: AsyncResource.bind defines deprecated
      // accessors on every function it binds, which cost more than the rest of tracking a job.
      const requestId = currentRequestId();
      const job: PendingJob = {
        jobId,
        owner,
        request,
        inCallContext: (task) => (requestId === undefined ? task() : runWithRequestId(requestId, task)),
        settle: (outcome) => {
          if (this.#pending.get(id) !== job) return;
          this.#pending.delete(id);
          clearTimeout(timer);
          request.signal?.removeEventListener('abort', onAbort);
          const ended = outcome instanceof Error ? endedHow(outcome) : outcome.signal === 'failure' ? 'failure' : 'success';
          this.emit('ended', { jobId, operation: request.operation, outcome: ended });
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        },
      };
      this.#pending.set(id, job);
      request.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #onSignal(message: dbus.Message): void {
    const [jobId, results] = message.body as [unknown, unknown];
    if (!JOB_SIGNALS.includes(message.member as JobSignal) || typeof jobId !== 'number') return;
    const job = this.#pending.get(key(message.sender, jobId));
    if (!job) return; // another client's job, or one we no longer wait for
    const list = Array.isArray(results) ? results.filter((r): r is string => typeof r === 'string') : [];
    job.settle({ signal: message.member as JobSignal, results: list });
  }

  /**
   * Ends every call still waiting with a Fault, for a shutdown whose grace period is over: a
   * Fault tells the caller what happened, a dropped connection would not. The daemon goes on.
   */
  abandonAll(what: string): void {
    this.#failWhere(() => true, 'GW_ERR_SHUTTING_DOWN', what);
  }

  #failWhere(affected: (job: PendingJob) => boolean, code: 'GW_ERR_DAEMON_GONE' | 'GW_ERR_BUS_UNAVAILABLE' | 'GW_ERR_SHUTTING_DOWN', what: string): void {
    for (const job of [...this.#pending.values()].filter(affected)) {
      // Bus events arrive outside any call's context; each job's failure is told in its own.
      job.inCallContext(
        () =>
          void this.#log(job.owner, job.jobId).then((log) => job.settle(this.#unanswered(job.request, job.jobId, `was still running when ${what}`, log, code))),
      );
    }
  }

  #unanswered(request: JobRequest, jobId: number, what: string, log: string, code: GatewayError['code']): GatewayError {
    const hint = request.job.silentOnFailure ? ` (disnix-service sends no signal when ${request.job.method} fails)` : '';
    const soFar = log.trim() === '' ? 'The job logged nothing.' : `The job's log so far:\n${log}`;
    this.logger.warn(`${request.operation} job ${jobId} ${what}`, { jobId });
    return new GatewayError(code, `${request.operation} job ${jobId} ${what}${hint}. ${soFar}`);
  }

  /** The log so far, for a Fault or a log line. */
  async #log(owner: string, jobId: number): Promise<string> {
    try {
      return await readJobLog(await this.#logDir(owner), jobId);
    } catch (error) {
      return `(the job log cannot be found: disnix-service did not say where its logs are: ${(error as Error).message})`;
    }
  }

  /** Asked of each daemon instance once. */
  #logDir(owner: string): Promise<string> {
    let logDir = this.#logDirs.get(owner);
    if (!logDir) {
      logDir = this.bus.call('get_logdir', '', []).then((reply) => reply.body[0] as string);
      this.#logDirs.set(owner, logDir);
      logDir.catch(() => this.#logDirs.delete(owner));
    }
    return logDir;
  }
}

function key(owner: string, jobId: number): string {
  return `${owner}#${jobId}`;
}

function endedHow(error: Error): 'timeout' | 'lost' | 'aborted' | 'failure' {
  if (!(error instanceof GatewayError)) return 'failure';
  if (error.code === 'GW_ERR_JOB_TIMEOUT') return 'timeout';
  if (error.code === 'GW_ERR_CALLER_GONE') return 'aborted';
  if (error.code === 'GW_ERR_DAEMON_GONE' || error.code === 'GW_ERR_BUS_UNAVAILABLE') return 'lost';
  return 'failure';
}
