import type { Request, RequestHandler, Response } from 'express';
import { type AuthFailureLimit, DEFAULT_AUTH_FAILURE_LIMIT } from '../config/auth-failure-limit';
import type { AuthConfig } from '../config/config';
import { type Logger, silentLogger } from '../logger';
import type { AuthFailureReason } from '../metrics/gateway-metrics';
import { createAuthFailureLimiter } from './auth-rate-limit';
import { DUMMY_ENTRY, sameSecret, verifyPassword } from './htpasswd';
import { HtpasswdFile } from './htpasswd-file';

export const REALM = 'DisnixWebService';

export interface BasicAuthOptions {
  readonly logger?: Logger;
  readonly failureLimit?: AuthFailureLimit;
}

/** What the rest of the gateway may know of the caller: the name, never the password. */
export interface AuthenticatedRequest extends Request {
  auth?: { user: string };
}

/**
 * HTTP basic auth for every route: the single user of the environment and the users of an
 * htpasswd file (the environment's user wins for its own name). Refused attempts are counted
 * per client address and logged without the password, and without the name unless it is a
 * known user (a name field sometimes holds a mistyped password).
 */
export function createBasicAuth(
  auth: AuthConfig,
  onFailure?: (reason: AuthFailureReason) => void,
  options: BasicAuthOptions = {},
): RequestHandler | undefined {
  if (auth.mode === 'none') return undefined;
  const logger = options.logger ?? silentLogger;
  const fixed = Object.entries(auth.users);
  const file = auth.htpasswdFile === undefined ? undefined : new HtpasswdFile(auth.htpasswdFile, logger);
  const limiter = createAuthFailureLimiter(options.failureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT);

  /** The user let in, or whether the name is known (for the log line) when refused. */
  const check = async (user: string, password: string): Promise<{ ok: boolean; known: boolean }> => {
    // Every fixed user is compared, without stopping at the first match, in constant time.
    let fixedOk = false;
    let fixedKnown = false;
    for (const [name, secret] of fixed) {
      const nameOk = sameSecret(user, name);
      fixedKnown ||= nameOk;
      fixedOk = (nameOk && sameSecret(password, secret)) || fixedOk;
    }
    if (fixedKnown) return { ok: fixedOk, known: true };
    const entry = await file?.lookup(user);
    const ok = await verifyPassword(entry ?? DUMMY_ENTRY, password);
    return { ok: ok && entry !== undefined, known: entry !== undefined };
  };

  return async (req, res, next) => {
    const client = req.ip ?? 'local socket';
    const waitSeconds = await limiter.blockedFor(req);
    if (waitSeconds !== undefined) {
      logger.debug('login attempt of a blocked address refused', { client, retryAfterSeconds: waitSeconds });
      tooMany(res, waitSeconds);
      return;
    }
    const credentials = readCredentials(req.headers.authorization);
    if (credentials === undefined) {
      onFailure?.('missing');
      challenge(res, 'Credentials are required (HTTP basic auth).\n');
      return;
    }
    const { ok, known } = credentials === 'malformed' ? { ok: false, known: false } : await check(credentials.user, credentials.password);
    if (ok && credentials !== 'malformed') {
      (req as AuthenticatedRequest).auth = { user: credentials.user };
      next();
      return;
    }
    onFailure?.('refused');
    logger.warn('credentials refused', {
      client,
      user: known && credentials !== 'malformed' ? credentials.user : undefined,
      reason: credentials === 'malformed' ? 'malformed Authorization header' : known ? 'wrong password' : 'unknown user',
    });
    const over = await limiter.recordFailure(req, res);
    if (over !== undefined) tooMany(res, over);
    else challenge(res, 'The credentials were refused.\n');
  };
}

/** The Basic scheme's user and password; 'malformed' for a Basic header that holds neither. */
function readCredentials(header: string | undefined): { user: string; password: string } | 'malformed' | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) return 'malformed';
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function challenge(res: Response, text: string): void {
  res.set('WWW-Authenticate', `Basic realm="${REALM}"`).status(401).type('text/plain').send(text);
}

function tooMany(res: Response, seconds: number): void {
  res
    .set('Retry-After', String(seconds))
    .status(429)
    .type('text/plain')
    .send(`Too many refused logins from this address; try again in ${seconds} s.\n`);
}
