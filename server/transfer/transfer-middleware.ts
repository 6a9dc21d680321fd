import type { RequestHandler } from 'express';
import { isMultipartRelated, isXmlText, parseMediaType } from './media-type';
import { peekOperation } from './request-peek';
import { holdShutdownFor } from '../shutdown';
import { type TransferDeps, handleStreamedCall } from './transfer-call';
import { isTransferOperation } from './transfer-request';

export type { TransferDeps };

/** The Body element of any SOAP stack's request comes well within this (headers included). */
const PEEK_LIMIT = 64 * 1024;

/**
 * Takes the requests that the regular path (express.text, then the `soap` package, which reads
 * whole bodies) cannot or need not read, and answers them from one streaming parse. Mounted for
 * POSTs of the service path before that path:
 *  - MTOM (multipart/related) requests are all read here: only this path reads MIME parts;
 *  - compressed requests are all read here: their start cannot be peeked at;
 *  - text/xml requests are taken when the start of the body names a transfer operation (their
 *    files come inline as base64) or has positional parts (`arg0`, as the original Java client
 *    sends them); every other request, the WSDL's document/literal form, continues untouched.
 * The original Java client sends every request compressed and as MTOM, so all of its calls are
 * answered here.
 */
export function createTransferMiddleware(deps: TransferDeps): RequestHandler {
  const handle: RequestHandler = (req, res, next) => holdShutdownFor(handleStreamedCall(req, res, deps).catch(next));
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
    peekOperation(req, PEEK_LIMIT).then(
      (call) => (call !== undefined && (call.positional || isTransferOperation(call.operation)) ? handle(req, res, next) : next()),
      next,
    );
  };
}
