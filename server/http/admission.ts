import type { RequestHandler } from 'express';
import { type TrustProxy, addressMatcher } from '../config/trusted-proxies';

/**
 * Who gets past the credential check, and when a client may send its body.
 *
 * The original Java disnix-soap-client sends credentials only after a 401 challenge, and it
 * cannot resend its (chunked, streamed) body to answer one; see README, "Clients". Addresses in
 * `--no-auth-from` are let in without credentials so that such coordinators keep working.
 */
export function exemptAddresses(addresses: TrustProxy, auth: RequestHandler): RequestHandler {
  const exempt = addressMatcher(addresses);
  return (req, res, next) => (exempt(req.ip) ? next() : auth(req, res, next));
}

/**
 * Sends `100 Continue` to a client that waits for it (`Expect: 100-continue`) once the request
 * is let in. A refused client thus gets its 401 challenge before it sent any of its body, and can
 * answer it with credentials even when its body cannot be sent twice. Node would otherwise have
 * answered 100 Continue before any check (the server hands such requests to the app instead).
 */
export const continueOnceAdmitted: RequestHandler = (req, res, next) => {
  if (/\b100-continue\b/i.test(req.get('expect') ?? '')) res.writeContinue();
  next();
};
