import type { RequestHandler } from 'express';
import { isMultipartRelated, isXmlText, parseMediaType } from './media-type';
import { peekOperation } from './request-peek';
import { holdShutdownFor } from '../shutdown';
import { type TransferDeps, handleTransferCall } from './transfer-call';
import { isTransferOperation } from './transfer-request';

export type { TransferDeps };

/** The Body element of any SOAP stack's request comes well within this (headers included). */
const PEEK_LIMIT = 64 * 1024;

/**
 * Takes the requests that move file contents off the regular path, which reads whole bodies
 * (express.text, then the `soap` package) and so cannot carry files of any size. Mounted for
 * POSTs of the service path before that path:
 *  - MTOM (multipart/related) requests are all read here: only this path reads MIME parts;
 *  - text/xml requests are taken when the start of the body names a transfer operation (their
 *    files come inline as base64); every other request continues untouched;
 *  - compressed text/xml requests, whose start cannot be peeked at, are read here and handed on
 *    as text when they are no transfer (as MTOM requests of other operations are).
 */
export function createTransferMiddleware(deps: TransferDeps): RequestHandler {
  return (req, res, next) => {
    const mediaType = parseMediaType(req.get('content-type'));
    if (isMultipartRelated(mediaType)) {
      holdShutdownFor(handleTransferCall(req, res, next, deps).catch(next));
      return;
    }
    if (!isXmlText(mediaType)) {
      next();
      return;
    }
    // A compressed body cannot be peeked at; read here, it goes on as text if it is no transfer.
    if ((req.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity') {
      holdShutdownFor(handleTransferCall(req, res, next, deps).catch(next));
      return;
    }
    peekOperation(req, PEEK_LIMIT).then(
      (operation) => (isTransferOperation(operation) ? holdShutdownFor(handleTransferCall(req, res, next, deps).catch(next)) : next()),
      next,
    );
  };
}
