import type { Request, Response } from 'express';
import { Readable } from 'node:stream';
import { getOperation } from '../../protocol/operations';
import type { GatewayConfig } from '../config/config';
import type { JobRelay } from '../dbus/job-relay';
import { GatewayError, isGatewayError } from '../errors';
import type { CallContext, RecordedCall } from '../jobs-page/job-history';
import type { Logger } from '../logger';
import { reportCall, userOf, watchCall } from '../operations/call-report';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import { exportRemoteFile, importLocalFile } from './closure-transfer';
import { type ReceivedMessage, readMessage } from '../../protocol/codec/message-reader';
import type { Segment } from '../../protocol/codec/message-writer';
import { relayReceivedCall } from './relayed-call';
import { VOID_RETURN, replyForm, responseSegments, sendFault, sendReply } from './soap-reply';
import { exportRemoteSnapshotPaths, exportRemoteSnapshots, importLocalSnapshots } from './snapshot-transfer';
import type { TransferContext } from './transfer-jobs';
import { type TransferOperationName, type TransferRequest, isTransferOperation, requestReaderOptions, toTransferRequest } from './transfer-request';
import { type UploadArea, createUploadArea, uploadStorageError } from './upload-area';

export interface TransferDeps {
  readonly config: GatewayConfig;
  readonly relay: JobRelay;
  readonly logger: Logger;
  readonly metrics?: Pick<GatewayMetrics, 'countCall' | 'countBytes'>;
  /** Told of every transfer call once its request is in: the jobs page's history. */
  readonly calls?: { callStarted(call: CallContext): RecordedCall };
}

const OPERATIONS: Record<TransferOperationName, (request: TransferRequest, context: TransferContext) => Promise<Segment[]>> = {
  importLocalFile,
  exportRemoteFile,
  importLocalSnapshots,
  exportRemoteSnapshotPaths,
  exportRemoteSnapshots,
};

/**
 * One call read by the streaming path: the whole request is received into a private upload
 * area (files to disk as they stream in), the operation runs, its answer streams out, and the
 * area is removed whatever happened. Besides the transfers, this path answers every request it
 * has read anyway (MTOM or compressed) and every one in the Java client's positional form, whose
 * answers follow that client's rules: `return 0` for no result, Faults with HTTP 500.
 */
export async function handleStreamedCall(req: Request, res: Response, deps: TransferDeps, body?: Buffer): Promise<void> {
  const watch = watchCall(res);
  let area: UploadArea | undefined;
  let operation: string | undefined;
  let jobId: number | undefined;
  let recorded: RecordedCall | undefined;
  let received = 0;
  let sent = 0;
  // Requests that cannot be read are answered with HTTP 400, as the regular path answers them.
  let unreadable = false;
  let positional = false;
  // Read now: once the caller has gone, Express's req.ip throws (the socket is detached).
  const client = req.ip;
  const meta = () => ({ operation, user: userOf(req), client, jobId, receivedBytes: received, sentBytes: sent });
  try {
    area = createUploadArea(deps.config.uploadDir);
    const options = requestReaderOptions(deps.config.maxBodyBytes, area.newFilePath);
    let message: ReceivedMessage;
    try {
      message = await readMessage(
        body === undefined ? req : Readable.from([body]),
        { contentType: req.get('content-type'), contentEncoding: req.get('content-encoding') },
        { ...options, onBytes: (bytes) => (received += bytes) },
      );
    } catch (error) {
      operation = options.operation();
      unreadable = true;
      throw requestError(req, error, deps.config.uploadDir);
    }
    const name = options.operation()!;
    operation = name;
    positional = options.positional();
    const fileBytes = message.items.reduce((sum, item) => sum + (item.kind === 'file' ? item.file.size : 0), 0);
    if (fileBytes > 0) deps.metrics?.countBytes('up', fileBytes);
    recorded = deps.calls?.callStarted({ operation, args: describeArguments(message), user: userOf(req), client });
    const onJobId = (id: number) => {
      jobId = id;
      recorded?.jobId(id);
    };
    const context: TransferContext = { relay: deps.relay, jobTimeouts: deps.config.jobTimeouts, area, signal: watch.signal, onJobId };
    const content = isTransferOperation(name)
      ? await OPERATIONS[name](toTransferRequest(name, message, positional), context)
      : await relayReceivedCall(name, message, context);
    const answer = positional && content.length === 0 && getOperation(name).result === 'none' ? [VOID_RETURN] : content;
    sent = await sendReply(res, responseSegments(name, answer), replyForm(req, message.mtom)).catch((error) => {
      throw res.destroyed ? callerGone('while the answer was being sent') : error;
    });
    if (sent > 0) deps.metrics?.countBytes('down', sent);
    reportCall(deps, operation, watch.elapsedMs(), meta());
    recorded?.ended();
  } catch (error) {
    recorded?.ended(error);
    reportCall(deps, operation, watch.elapsedMs(), meta(), error);
    const status = unreadable && isGatewayError(error) && error.code === 'GW_ERR_BAD_REQUEST' ? readStatus(error) : statusOf(error);
    sendFault(req, res, positional ? 500 : status, error);
  } finally {
    watch.release();
    await area?.remove().catch((error: unknown) => deps.logger.error('cannot remove an upload area', { error: String(error) }));
  }
}

/** The call's parts as the jobs page shows them: text as sent, files by their size. */
function describeArguments(message: ReceivedMessage): Record<string, unknown> {
  const args: Record<string, string[]> = {};
  for (const item of message.items) (args[item.name] ??= []).push(item.kind === 'text' ? item.text : `(${item.file.size} bytes)`);
  return args;
}

/** 413 for a request over --max-body-size, as the regular path answers it; 400 for other unreadable ones. */
function readStatus(error: GatewayError): number {
  return /is larger than the \d+ bytes accepted/.test(error.message) ? 413 : 400;
}

function statusOf(error: unknown): number {
  return isGatewayError(error) && error.code === 'GW_ERR_SHUTTING_DOWN' ? 503 : 500;
}

function requestError(req: Request, error: unknown, uploadDir: string): GatewayError {
  if (isGatewayError(error)) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (!req.complete && (req.destroyed || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE')) {
    return callerGone('before the request was complete; nothing was imported');
  }
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EACCES' || code === 'EROFS' || code === 'EMFILE') return uploadStorageError(uploadDir, error);
  const reason = code?.startsWith('Z_') ? `its compressed body cannot be read (${(error as Error).message})` : (error as Error)?.message ?? String(error);
  return new GatewayError('GW_ERR_BAD_REQUEST', `the request cannot be read: ${reason}`, { cause: error });
}

function callerGone(when: string): GatewayError {
  return new GatewayError('GW_ERR_CALLER_GONE', `the caller went away ${when}`);
}

