import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { runWithRequestId } from '../logging/request-context';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * What an incoming id may look like to be kept: a proxy's or a caller's id joins our log lines
 * with theirs, but it lands in logs and a response header, so nothing that could forge a log
 * line or a header (spaces, quotes, control characters) and nothing long.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$/;

/** Gives every request an id (the caller's, when sane), answers it, and scopes the call's logging to it. */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get(REQUEST_ID_HEADER);
    const id = incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, id);
    runWithRequestId(id, next);
  };
}
