import type { IncomingMessage } from 'node:http';
import { type Socket, createConnection, isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { connect as connectTls } from 'node:tls';
import type { ArgumentsOf, TransferOperationName } from '../protocol/operations';
import { MessageError, type ReceivedMessage, readMessage } from '../protocol/codec/message-reader';
import { MultipartError } from '../protocol/codec/multipart-reader';
import { SoapReadError } from '../protocol/codec/soap-stream-reader';
import { Base64Error } from '../protocol/codec/base64-stream';
import { type Connection, watchRequest } from './connection';
import { ClientError, faultError, fileProblem, httpError, networkError, notSoapError, sendError, statusError } from './errors';
import { parallelGzip } from './parallel-gzip';
import { type Progress, createProgress } from './progress';
import { type FileSegment, type WireForm, encodeMessage } from '../protocol/codec/message-writer';
import { requestSegments } from '../protocol/codec/soap-envelope';
import { clientText } from './envelope';

/** What every transfer command needs to reach the gateway. */
export type TransferTarget = Connection;

/**
 * One call of a transfer operation: the request streams out (files read from disk as the
 * connection takes them), the answer streams in, its files written to disk as they arrive.
 * Uses the gateway's own readers and writers of SOAP messages with files.
 */
export interface TransferCall<N extends TransferOperationName> extends TransferTarget {
  readonly operation: N;
  /** The operation's parts, files among them, by the table's names. */
  readonly values: ArgumentsOf<N, FileSegment>;
  /** MTOM for uploads (files as binary parts); inline for requests without files. */
  readonly form: WireForm;
  /** Whether the answer carries files (`return` elements of base64Binary). */
  readonly answersFiles: boolean;
  /** A path for the next file of the answer, in a directory the caller removes on failure. */
  newFilePath(): string;
  /** Counts the file bytes sent (uploads). */
  readonly upload?: Progress;
  /**
   * Counts the bytes of the answer received, as they come over the wire (downloads); its total
   * is set from Content-Length, which a compressed answer has not: then the bar shows no total.
   */
  readonly download?: Progress;
}

/** The answer's text is small; this only bounds what a misbehaving server could make us hold. */
const MAX_ANSWER_MARKUP = 64 * 1024 * 1024;

export async function callTransfer<N extends TransferOperationName>(call: TransferCall<N>): Promise<ReceivedMessage> {
  const { url } = call;
  const message = encodeMessage(
    clientText(() => requestSegments(call.operation, call.values)),
    call.form,
  );
  const transport = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const compress = call.compress === true;
  const headers: Record<string, string | number> = {
    'Content-Type': message.contentType,
    // Compressed, the length is not known beforehand: the request goes chunked. Uploads go as
    // gzip, which every gateway and the original Java service read; an answer comes as br from
    // a gateway that writes it (it saves more, for less CPU), else as gzip.
    ...(compress ? { 'Content-Encoding': 'gzip', 'Accept-Encoding': 'br, gzip' } : { 'Content-Length': message.length }),
    SOAPAction: '""',
    Accept: 'multipart/related, text/xml',
    Connection: 'close',
  };
  if (call.authorization !== undefined) headers.Authorization = call.authorization;
  return new Promise((resolve, reject) => {
    let answered = false;
    let writeFailure: Error | undefined;
    // The progress counts the file bytes read, before any compression.
    const source = message.stream((bytes) => call.upload?.add(bytes));
    const body = compress ? gzipped(source) : source;
    const stopSending = () => {
      body.unpipe(outgoing);
      body.destroy();
      source.destroy();
    };
    const connect = () =>
      patientConnection(url, (error) => {
        // The gateway has closed the connection while the request was still going out: it
        // refused it, and its answer may already be on its way. It is read, not the broken pipe.
        writeFailure = error;
        stopSending();
      });
    const outgoing = transport.request(url, { method: 'POST', headers, createConnection: connect }, (response) => {
      answered = true;
      // An answer before the whole request went out is a refusal: the rest would only be dropped.
      stopSending();
      receive(call, response)
        .then(resolve, reject)
        .finally(() => outgoing.destroy());
    });
    // Once the gateway answers (a Fault can come before the upload ends), its answer counts, not
    // the broken connection; without an answer, a failed write says best what went wrong.
    outgoing.on('error', (error) => {
      body.destroy();
      if (!answered) reject(networkError(url, writeFailure ?? error));
    });
    body.on('error', (error) => {
      outgoing.destroy();
      reject(sendError(error));
    });
    // Once the last byte is out, the target works (imports, exports) before it answers.
    watchRequest(outgoing, call.timeouts, () => {
      call.upload?.waitForTarget();
      call.download?.waitForTarget();
    });
    body.pipe(outgoing);
  });
}

/**
 * The request body gzip-compressed at level 1, several blocks at once (see parallel-gzip): most
 * of what gzip saves on closures of binaries, for the least CPU. A failure to read the files
 * ends the compressed stream with the same error.
 */
function gzipped(source: Readable): Readable {
  const gzip = parallelGzip();
  source.on('error', (error) => gzip.destroy(error));
  return source.pipe(gzip);
}

/**
 * The request's connection (TCP or TLS), made so that a write the gateway refused does not end
 * it. Node ends a socket on a failed write, and with it whatever the gateway answered before it
 * closed the connection and was not read yet: on a busy machine the client's next write can fail
 * before the answer is read. Here the first such failure is told to `onWriteFailed`, later
 * writes are dropped, and the connection goes on reading until the gateway's side ends.
 */
function patientConnection(url: URL, onWriteFailed: (error: Error) => void): Socket {
  const tls = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (tls ? 443 : 80));
  const socket = tls ? connectTls({ host, port, servername: isIP(host) ? undefined : host }) : createConnection({ host, port });
  let failed = false;
  const watched = (callback: (error?: Error | null) => void) => (error?: Error | null) => {
    if (error && isClosedByPeer(error)) {
      failed = true;
      onWriteFailed(error);
      callback();
      return;
    }
    callback(error);
  };
  const write = socket._write.bind(socket);
  const writev = socket._writev?.bind(socket);
  socket._write = (chunk, encoding, callback) => (failed ? callback() : write(chunk, encoding, watched(callback)));
  if (writev) socket._writev = (chunks, callback) => (failed ? callback() : writev(chunks, watched(callback)));
  return socket;
}

function isClosedByPeer(error: Error): boolean {
  const { code } = error as NodeJS.ErrnoException;
  return code === 'EPIPE' || code === 'ECONNRESET';
}

async function receive<N extends TransferOperationName>(call: TransferCall<N>, response: IncomingMessage): Promise<ReceivedMessage> {
  const { url } = call;
  const status = response.statusCode ?? 0;
  const early = statusError(call, response);
  if (early !== undefined) {
    response.resume();
    throw early;
  }
  // A compressed answer's length (if it gives one) is not what the bar counts against.
  const length = Number(response.headers['content-length']);
  const encoded = !/^(identity)?$/i.test((response.headers['content-encoding'] ?? '').trim());
  if (!encoded && Number.isFinite(length) && length > 0) call.download?.setTotal(length);
  const expected = `${call.operation}Response`;
  let message: ReceivedMessage;
  try {
    message = await readMessage(
      response,
      { contentType: response.headers['content-type'], contentEncoding: response.headers['content-encoding'] },
      {
        noun: 'the answer',
        acceptBody: (local) => (local === expected ? undefined : `the SOAP Body holds <${local}>, not ${expected}`),
        partName: (local) => local,
        isBinary: (part) => call.answersFiles && part === 'return',
        newFilePath: () => call.newFilePath(),
        maxMarkupChars: MAX_ANSWER_MARKUP,
        acceptFault: true,
        onBytes: (bytes) => call.download?.add(bytes),
      },
    );
  } catch (error) {
    const { syscall, code } = error as NodeJS.ErrnoException;
    if (syscall === 'open' || syscall === 'write') throw new ClientError(`cannot store the download: ${code ? fileProblem(error) : (error as Error).message}`);
    if (!isFormatError(error)) throw networkError(url, error);
    if (status !== 200) throw httpError(url, status, response.statusMessage ?? '');
    throw notSoapError(url, status, response.headers['content-type'] ?? '', (error as Error).message, '');
  }
  if (message.fault) throw faultError(message.fault.faultstring, message.fault.faultcode);
  if (status < 200 || status >= 300) throw httpError(url, status, response.statusMessage ?? '');
  return message;
}

function isFormatError(error: unknown): boolean {
  return error instanceof MessageError || error instanceof SoapReadError || error instanceof MultipartError || error instanceof Base64Error;
}

/** Sends files up as MTOM under a progress bar; the answer carries none. */
export async function uploadFiles<N extends TransferOperationName>(
  target: TransferTarget,
  operation: N,
  values: ArgumentsOf<N, FileSegment>,
  label: string,
  bytes: number,
): Promise<void> {
  const progress = createProgress(`upload ${label}`, bytes, 'target importing');
  try {
    await callTransfer({ ...target, operation, values, form: 'mtom', answersFiles: false, newFilePath: noFilesExpected, upload: progress });
  } finally {
    progress.stop();
  }
}

/** For answers that should carry no files: one that does is not what this client asked for. */
export function noFilesExpected(): string {
  throw new ClientError('the gateway answered with file contents where none were expected');
}
