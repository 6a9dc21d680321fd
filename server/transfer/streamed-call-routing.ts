import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isMultipartRelated, isXmlText, parseMediaType } from '../../protocol/codec/media-type';
import { type PeekedCall, peekOperation } from './request-peek';
import { holdShutdownFor } from '../shutdown';
import { type TransferDeps, handleStreamedCall } from './streamed-call';
import { isTransferOperation } from './transfer-request';

export type { TransferDeps };

/** The Body element of any SOAP stack's request comes well within this (headers included). */
const PEEK_LIMIT = 64 * 1024;

/** Answers one call from the streaming path; a body already read whole (small requests) is read from there. */
export type StreamedCallHandler = (req: Request, res: Response, next: NextFunction, body?: Buffer) => void;

/** Whether a text/xml call is one the streaming path answers: a transfer, or in the Java client's positional form. */
export function isStreamedCall(call: PeekedCall): boolean {
  return call.positional || isTransferOperation(call.operation);
}

export function createStreamedCallHandler(deps: TransferDeps): StreamedCallHandler {
  return (req, res, next, body) => holdShutdownFor(handleStreamedCall(req, res, deps, body).catch(next));
}

/**
 * Takes the requests that the regular path (express.text, then the envelope check, which read
 * whole bodies) cannot or need not read, and answers them from one streaming parse. Mounted for
 * POSTs of the service path before that path:
 *  - MTOM (multipart/related) requests are all read here: only this path reads MIME parts;
 *  - compressed requests are all read here: their start cannot be peeked at;
 *  - text/xml requests are taken when the start of the body names a transfer operation (their
 *    files come inline as base64) or has positional parts (`arg0`, as the original Java client
 *    sends them); every other request, the WSDL's document/literal form, continues untouched.
 *    A small one (a Content-Length within the peek limit) is not peeked at: the regular path
 *    reads it once, and its envelope check sends it back here if need be (see app.ts).
 * The original Java client sends every request compressed and as MTOM, so all of its calls are
 * answered here.
 */
export function createStreamedCallRouting(handle: StreamedCallHandler): RequestHandler {
  return (req, res, next) => {
    const mediaType = parseMediaType(req.get('content-type'));
    if (isMultipartRelated(mediaType)) {
      handle(req, res, next);
      return;
    }
    if (!isXmlText(mediaType)) {
      next();
      return;
    }
    if ((req.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity') {
      handle(req, res, next);
      return;
    }
    if (Number(req.get('content-length') ?? Infinity) <= PEEK_LIMIT) {
      next();
      return;
    }
    peekOperation(req, PEEK_LIMIT).then(
      (call) => (call !== undefined && isStreamedCall(call) ? handle(req, res, next) : next()),
      next,
    );
  };
}
