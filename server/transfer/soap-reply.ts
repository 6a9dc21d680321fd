import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { TARGET_NAMESPACE } from '../../protocol/operations';
import { escapeXml, faultEnvelope, faultFor } from '../soap/soap-faults';
import { SOAP11_NS } from '../../protocol/codec/soap-stream-reader';
import { type Segment, type WireForm, encodeMessage } from '../../protocol/codec/message-writer';

/**
 * Answers of transfer calls: `<opResponse>` around the operation's segments, as MTOM when the
 * caller spoke MTOM or asked for it (Accept: multipart/related), else with the files inline.
 * A message without files always goes as plain text/xml.
 */
export function responseSegments(operation: string, content: readonly Segment[]): Segment[] {
  return [
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}" xmlns:tns="${TARGET_NAMESPACE}">` +
      `<soap:Body><tns:${operation}Response>`,
    ...content,
    `</tns:${operation}Response></soap:Body></soap:Envelope>`,
  ];
}

/** One `return` element: the answer's parts are all named so (the Java client reads them by position). */
export function returnElement(text: string): string {
  return `<tns:return>${escapeXml(text)}</tns:return>`;
}

/**
 * What the Java client's form gets for an operation without a result: the original service's
 * methods returned the int 0 there, and that client reads the answer's first child.
 */
export const VOID_RETURN = returnElement('0');

export function replyForm(req: Request, requestWasMtom: boolean): WireForm {
  return requestWasMtom || /\bmultipart\/related\b/i.test(req.get('accept') ?? '') ? 'mtom' : 'inline';
}

/** Streams the answer; resolves with the bytes of file content sent. */
export async function sendReply(res: Response, segments: readonly Segment[], form: WireForm): Promise<number> {
  const hasFiles = segments.some((segment) => typeof segment !== 'string');
  const message = encodeMessage(segments, hasFiles ? form : 'inline');
  let fileBytes = 0;
  res.status(200);
  res.setHeader('Content-Type', message.contentType);
  res.setHeader('Content-Length', message.length);
  await pipeline(message.stream((bytes) => (fileBytes += bytes)), res);
  return fileBytes;
}

/**
 * A Fault in the shape of the others. Sent while the caller may still be uploading: the
 * connection is closed afterwards, and what is left of the upload is read and dropped so that
 * the caller gets to read the Fault instead of a reset connection.
 */
const DRAIN_MS = 10_000;

export function sendFault(req: Request, res: Response, status: number, error: unknown): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  if (!req.readableEnded) {
    res.setHeader('Connection', 'close');
    req.resume();
    // A caller that goes on sending long after its Fault (a huge upload) is cut off.
    res.once('finish', () => setTimeout(() => req.socket?.destroy(), DRAIN_MS).unref());
  }
  res.status(status).type('text/xml; charset=utf-8').send(faultEnvelope(faultFor(error).Fault));
}
