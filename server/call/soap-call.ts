import type { Request, RequestHandler, Response } from 'express';
import type { ReceivedItem } from '../../protocol/codec/message-reader';
import type { JobTimeouts } from '../config/job-timeouts';
import type { JobRelay } from '../dbus/job-relay';
import { GatewayError, errorCodeOf, faultFor, isGatewayError } from '../errors/error-catalogue';
import type { CallContext, RecordedCall } from '../jobs-page/job-history';
import { holdShutdownFor } from '../lifecycle/shutdown';
import type { Logger } from '../logging/logger';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { DaemonFileRemover } from '../operations/daemon-temp-files';
import { checkArguments } from '../operations/operation-arguments';
import { runOperation } from '../operations/run-operation';
import type { OperationContext } from '../operations/relay-operation';
import { callImport } from '../operations/streamed-import';
import { createUploadArea } from '../operations/upload-area';
import { stallLimit } from '../http/stall-limit';
import { sendAnswer, sendFault } from './answer';
import { type ReceivedCall, readRequest } from './read-request';

export interface CallDeps {
  readonly relay: JobRelay;
  readonly jobTimeouts: JobTimeouts;
  readonly maxBodyBytes: number;
  readonly uploadDir: string;
  /** --upload-stall-timeout; absent: a request's body may pause for as long as it likes. */
  readonly uploadStallMs?: number;
  readonly logger: Logger;
  readonly metrics?: Pick<GatewayMetrics, 'countCall' | 'countBytes'>;
  /** Removes what the daemon's jobs leave in its TMPDIR for a call (see DaemonTempFiles). */
  readonly daemonFiles?: DaemonFileRemover;
  /** Told of every call once its request is read: the jobs page's history. */
  readonly calls?: { callStarted(call: CallContext): RecordedCall };
}

/** The SOAP endpoint's POST route: every call of every form takes the one path below. */
export function soapCallRoute(deps: CallDeps): RequestHandler {
  // Said once: where no named pipe can be made, none ever can, and every upload would repeat it.
  let toldNoPipes = false;
  const onNoPipe = (reason: string) => {
    if (toldNoPipes) return;
    toldNoPipes = true;
    deps.logger.warn('cannot import a closure while it arrives; closures are imported once received whole', { reason, uploadDir: deps.uploadDir });
  };
  return (req, res, next) => holdShutdownFor(answerCall(req, res, deps, onNoPipe).catch(next));
}

/**
 * One call: read the request (files to disk as they stream in), check its arguments, run the
 * operation, answer; watched for the caller leaving, shown on the jobs page, reported in one log
 * line and the metrics. The call's upload area, and the daemon's files it used, are removed however
 * the call ends.
 */
async function answerCall(req: Request, res: Response, deps: CallDeps, onNoPipe: (reason: string) => void): Promise<void> {
  const watch = watchCall(res);
  const area = createUploadArea(deps.uploadDir);
  // Read now: once the caller has gone, Express's req.ip throws (the socket is detached).
  const line = {
    operation: undefined as string | undefined,
    user: userOf(req),
    client: req.ip,
    jobId: undefined as number | undefined,
    receivedBytes: 0,
    sentBytes: 0,
  };
  let call: ReceivedCall | undefined;
  let recorded: RecordedCall | undefined;
  // The daemon's files this call has used; removed when it ends, if not before.
  const discarded = new Set<string>();
  const removeDaemonFile = async (path: string) => {
    discarded.delete(path);
    await deps.daemonFiles?.remove(path);
  };
  const context: Omit<OperationContext, 'form'> = {
    relay: deps.relay,
    jobTimeouts: deps.jobTimeouts,
    area,
    signal: watch.signal,
    // A closure imported while it arrives has its job before the request is read whole.
    onJobId: (id: number) => {
      line.jobId = id;
      recorded?.jobId(id);
    },
    discard: (path) => discarded.add(path),
    removeDaemonFile,
    streamedImport: (path) => imports.receivedAt(path),
  };
  const imports = callImport(context, onNoPipe);
  try {
    const stall = stallLimit(req, deps.uploadStallMs);
    try {
      call = await readRequest(req, {
        ...deps,
        newFilePath: area.newFilePath,
        openFile: (operation) => imports.openFile(operation, area.newFilePath()),
        onBytes: (bytes) => {
          line.receivedBytes += bytes;
          stall.touch();
        },
      });
    } catch (error) {
      throw stall.explain(error);
    } finally {
      stall.release();
    }
    line.operation = call.operation;
    const uploaded = call.items.reduce((sum, item) => sum + (item.kind === 'file' ? item.file.size : 0), 0);
    if (uploaded > 0) deps.metrics?.countBytes('up', uploaded);
    recorded = deps.calls?.callStarted({ operation: call.operation, args: shownArguments(call.items), user: line.user, client: line.client });
    if (line.jobId !== undefined) recorded?.jobId(line.jobId);
    const args = checkArguments(call.operation, call.items);
    const content = await runOperation(call.operation, args, { ...context, form: call.form });
    line.sentBytes = await sendAnswer(req, res, call, content).catch((error: unknown) => {
      throw res.destroyed ? new GatewayError('GW_ERR_CALLER_GONE', 'the caller went away while the answer was being sent') : error;
    });
    if (line.sentBytes > 0) deps.metrics?.countBytes('down', line.sentBytes);
    recorded?.ended();
    reportCall(deps, line.operation, watch.elapsedMs(), line);
  } catch (error) {
    recorded?.ended(error);
    reportCall(deps, line.operation, watch.elapsedMs(), line, error);
    // Before the Fault goes: whoever reads it finds the import it started ended.
    await imports.abandon();
    sendFault(req, res, faultFor(error, call?.form));
  } finally {
    watch.release();
    await imports.abandon();
    // Those not removed once they served: the call failed before, or while, they were sent.
    for (const path of [...discarded]) await removeDaemonFile(path);
    await area.remove().catch((error: unknown) => deps.logger.error('cannot remove an upload area', { error: String(error) }));
  }
}

/** The call's parts as the jobs page shows them: text as sent, files by their size. */
function shownArguments(items: readonly ReceivedItem[]): Record<string, string[]> {
  const args: Record<string, string[]> = {};
  for (const item of items) (args[item.name] ??= []).push(item.kind === 'text' ? (item.structured ? '(a structure)' : item.text) : `(${item.file.size} bytes)`);
  return args;
}

/** Notices the caller leaving before its answer was sent, and times the call. */
interface CallWatch {
  /** Aborted when the caller goes away before its answer was sent. */
  readonly signal: AbortSignal;
  elapsedMs(): number;
  /** Stops watching the response. */
  release(): void;
}

function watchCall(res: Response): CallWatch {
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

/**
 * The call's one log line (with the job's log or the stack on failure) and its count in the
 * metrics; `error` undefined means success. Metrics only for a call whose operation is known.
 */
function reportCall(deps: CallDeps, operation: string | undefined, durationMs: number, meta: Record<string, unknown>, error?: unknown): void {
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
function userOf(req: Request): string | undefined {
  return (req as Request & { auth?: { user?: string } }).auth?.user;
}
