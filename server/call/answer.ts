import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import { type Segment, encodeMessage } from '../../protocol/codec/message-writer';
import { faultEnvelope, responseSegments, returnElement } from '../../protocol/codec/soap-envelope';
import { getOperation } from '../../protocol/operations';
import type { Fault } from '../errors/error-catalogue';
import type { ReceivedCall } from './read-request';

/**
 * The one writer of the gateway's answers and Faults. An answer with files goes as MTOM when
 * the caller spoke MTOM or asks for it (Accept: multipart/related), else with the files inline;
 * one without files is plain text/xml. An answer with files goes compressed (streamed, so
 * chunked) to a caller whose Accept-Encoding takes br or gzip, br first; to others as it is,
 * with its Content-Length. Resolves with the bytes of file content sent.
 */
export async function sendAnswer(req: Request, res: Response, call: ReceivedCall, content: readonly Segment[]): Promise<number> {
  const segments = responseSegments(call.operation, answerContent(call, content));
  const files = segments.some((segment) => typeof segment !== 'string');
  if (!files) {
    // Written at once, and not with res.send: its ETag would hash every answer, for callers that never revalidate a POST.
    const xml = segments.join('');
    res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(xml) });
    res.end(xml);
    return 0;
  }
  const form = call.mtom || /\bmultipart\/related\b/i.test(req.get('accept') ?? '') ? 'mtom' : 'inline';
  const message = encodeMessage(segments, form);
  let fileBytes = 0;
  const counted = message.stream((bytes) => (fileBytes += bytes));
  const encoding = answerEncoding(req.get('accept-encoding'));
  if (encoding !== undefined) {
    res.writeHead(200, { 'Content-Type': message.contentType, 'Content-Encoding': encoding, Vary: 'Accept-Encoding' });
    // The pipeline keeps backpressure from the caller's connection back to the file, so memory stays flat.
    await pipeline(counted, compressor(encoding, message.length), res);
  } else {
    res.writeHead(200, { 'Content-Type': message.contentType, 'Content-Length': message.length, Vary: 'Accept-Encoding' });
    await pipeline(counted, res);
  }
  return fileBytes;
}

/** Larger than zlib's 16 KiB default: fewer, fuller writes to the connection. */
const CHUNK = 64 * 1024;

/**
 * The fastest settings that still save most bytes: on closures of binaries (a tar of shared
 * libraries), brotli at quality 2 makes them 2.51 times smaller at about 120 MiB/s of one core,
 * gzip at level 1 2.27 times at about 83 MiB/s; more of either would cost more CPU than a link
 * that is not slow gains (figures in docs/benchmarks.md).
 */
function compressor(encoding: 'br' | 'gzip', size: number) {
  if (encoding === 'gzip') return createGzip({ level: 1, chunkSize: CHUNK });
  return createBrotliCompress({
    chunkSize: CHUNK,
    params: { [constants.BROTLI_PARAM_QUALITY]: 2, [constants.BROTLI_PARAM_SIZE_HINT]: Math.min(size, 2 ** 31 - 1) },
  });
}

/**
 * How an answer with files goes to a caller with this Accept-Encoding: br if it takes br, else
 * gzip (or x-gzip) if it takes that, with a q-value above 0; `*` is not taken as asking (a
 * caller that never asked would not expect a compressed answer).
 */
export function answerEncoding(header: string | undefined): 'br' | 'gzip' | undefined {
  if (!header) return undefined;
  const taken = new Set<string>();
  for (const entry of header.split(',')) {
    const [coding, ...params] = entry.split(';').map((piece) => piece.trim().toLowerCase());
    const q = params.map((param) => /^q\s*=\s*([\d.]+)$/.exec(param)?.[1]).find((value) => value !== undefined);
    if (q === undefined || Number(q) > 0) taken.add(coding === 'x-gzip' ? 'gzip' : coding);
  }
  return taken.has('br') ? 'br' : taken.has('gzip') ? 'gzip' : undefined;
}

/**
 * What the Java client's form gets for an operation without a result: the original service's
 * methods returned the int 0 there, and that client reads the answer's first child.
 */
function answerContent(call: ReceivedCall, content: readonly Segment[]): readonly Segment[] {
  const voidAnswer = call.form === 'positional' && content.length === 0 && getOperation(call.operation).result === 'none';
  return voidAnswer ? [returnElement('0')] : content;
}

export function sendFault(req: Request, res: Response, fault: Fault): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const xml = faultEnvelope(fault.faultcode, fault.faultstring);
  const headers: Record<string, string | number> = { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(xml) };
  if (!req.readableEnded) {
    // The rest of the request is read and dropped, and the connection then closed gently (see
    // http/lingering-close), so that a caller still sending gets to read this Fault.
    headers.Connection = 'close';
    req.resume();
  }
  res.writeHead(fault.status, headers);
  res.end(xml);
}
