import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { type Segment, encodeMessage } from '../../protocol/codec/message-writer';
import { faultEnvelope, responseSegments, returnElement } from '../../protocol/codec/soap-envelope';
import { getOperation } from '../../protocol/operations';
import type { Fault } from '../errors/error-catalogue';
import type { ReceivedCall } from './read-request';

/**
 * The one writer of the gateway's answers and Faults. An answer with files goes as MTOM when
 * the caller spoke MTOM or asks for it (Accept: multipart/related), else with the files inline;
 * one without files is plain text/xml. An answer with files goes gzip-compressed (level 1,
 * streamed, so chunked) to a caller whose Accept-Encoding takes gzip; to others as it is, with
 * its Content-Length. Resolves with the bytes of file content sent.
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
  if (acceptsGzip(req.get('accept-encoding'))) {
    res.writeHead(200, { 'Content-Type': message.contentType, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    // Level 1: on a fast link more would cost more CPU than it saves bytes. The pipeline keeps
    // backpressure from the caller's connection back to the file, so memory stays flat.
    await pipeline(counted, createGzip({ level: 1, chunkSize: GZIP_CHUNK }), res);
  } else {
    res.writeHead(200, { 'Content-Type': message.contentType, 'Content-Length': message.length, Vary: 'Accept-Encoding' });
    await pipeline(counted, res);
  }
  return fileBytes;
}

/** Larger than zlib's 16 KiB default: fewer, fuller writes to the connection. */
const GZIP_CHUNK = 64 * 1024;

/** Whether an Accept-Encoding header takes gzip (or x-gzip) with a q-value above 0; `*` is not taken as asking. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((entry) => {
    const [coding, ...params] = entry.split(';').map((piece) => piece.trim());
    if (!/^(x-)?gzip$/i.test(coding)) return false;
    const q = params.map((param) => /^q\s*=\s*([\d.]+)$/i.exec(param)?.[1]).find((value) => value !== undefined);
    return q === undefined || Number(q) > 0;
  });
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
