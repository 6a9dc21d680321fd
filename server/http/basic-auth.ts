import type { Request, RequestHandler, Response } from 'express';
import basicAuth from 'express-basic-auth';
import { type AuthFailureLimit, DEFAULT_AUTH_FAILURE_LIMIT } from '../config/auth-failure-limit';
import type { AuthConfig } from '../config/config';
import { type Logger, silentLogger } from '../logging/logger';
import { AuthCache, type CachedLogin } from './auth-cache';
import { createAuthFailureLimiter } from './auth-rate-limit';
import { DUMMY_ENTRY, sameSecret, verifyPassword } from './htpasswd';
import { HtpasswdFile } from './htpasswd-file';

export const REALM = 'DisnixWebService';

/** Why a request was refused: it had no credentials ('missing') or wrong ones ('refused'). */
export type AuthFailureReason = 'missing' | 'refused';

export interface BasicAuthOptions {
  readonly logger?: Logger;
  readonly failureLimit?: AuthFailureLimit;
  /** Accepted credentials remembered (see AuthCache); tests pass their own to look inside. */
  readonly cache?: AuthCache;
  /** The htpasswd file of `auth`, made by the caller so that it can have it read again (SIGHUP). */
  readonly htpasswd?: HtpasswdFile;
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
export function createBasicAuth(auth: AuthConfig, onFailure?: (reason: AuthFailureReason) => void, options: BasicAuthOptions = {}): RequestHandler | undefined {
  if (auth.mode === 'none') return undefined;
  const logger = options.logger ?? silentLogger;
  const fixed = Object.entries(auth.users);
  const file = auth.htpasswdFile === undefined ? undefined : (options.htpasswd ?? new HtpasswdFile(auth.htpasswdFile, logger));
  const limiter = createAuthFailureLimiter(options.failureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT);
  const cache = options.cache ?? new AuthCache();

  /** Whom a remembered header lets in: undefined when it is not remembered, or its htpasswd file changed since. */
  const remembered = async (key: string): Promise<string | undefined> => {
    const login = cache.get(key);
    if (login === undefined) return undefined;
    if (login.fileGeneration !== undefined && (file === undefined || (await file.current()) !== login.fileGeneration)) {
      cache.forget(key);
      return undefined;
    }
    return login.user;
  };

  /** The user let in (and what to remember of the login), or whether the name is known (for the log line) when refused. */
  const check = async (user: string, password: string): Promise<{ ok: boolean; known: boolean; login?: CachedLogin }> => {
    // Every fixed user is compared, without stopping at the first match, in constant time.
    let fixedOk = false;
    let fixedKnown = false;
    for (const [name, secret] of fixed) {
      const nameOk = sameSecret(user, name);
      fixedKnown ||= nameOk;
      fixedOk = (nameOk && sameSecret(password, secret)) || fixedOk;
    }
    if (fixedKnown) return { ok: fixedOk, known: true, login: { user } };
    const found = await file?.find(user);
    const entry = found?.entry;
    const ok = (await verifyPassword(entry ?? DUMMY_ENTRY, password)) && entry !== undefined;
    return { ok, known: entry !== undefined, login: ok ? { user, fileGeneration: found!.generation } : undefined };
  };

  /**
   * One check for all the requests that carry the same header at the same time: a coordinator
   * starting many calls at once would otherwise run bcrypt for each before the first is
   * remembered. Each request still answers (and counts a refusal) on its own.
   */
  const checking = new Map<string, ReturnType<typeof check>>();
  const checkOnce = (key: string, user: string, password: string): ReturnType<typeof check> => {
    let result = checking.get(key);
    if (result === undefined) {
      result = check(user, password);
      checking.set(key, result);
      const done = () => checking.delete(key);
      result.then(done, done);
    }
    return result;
  };

  /** Counts and logs a refused login; answers 429 (and true) when it was one over the limit. */
  const refuse = async (req: Request, res: Response, why: { user?: string; reason: string }): Promise<boolean> => {
    onFailure?.('refused');
    logger.warn('credentials refused', { client: req.ip ?? 'local socket', ...why });
    const over = await limiter.recordFailure(req, res);
    if (over === undefined) return false;
    tooMany(res, over);
    return true;
  };

  /**
   * 'ok', 'refused' (a 401 follows), or 'answered' when the refusal went over the limit (429
   * sent). `key` is the header's cache key, undefined without a header.
   */
  const decide = async (req: Request, res: Response, key: string | undefined, user: string, password: string): Promise<'ok' | 'refused' | 'answered'> => {
    const { ok, known, login } = await (key === undefined ? check(user, password) : checkOnce(key, user, password));
    if (ok) {
      // Only what was accepted, under the header it came in; a refusal is checked in full every time.
      if (key !== undefined && login !== undefined) cache.remember(key, login);
      return 'ok';
    }
    const answered = await refuse(req, res, { user: known ? user : undefined, reason: known ? 'wrong password' : 'unknown user' });
    return answered ? 'answered' : 'refused';
  };

  return async (req, res, next) => {
    const waitSeconds = await limiter.blockedFor(req);
    if (waitSeconds !== undefined) {
      logger.debug('login attempt of a blocked address refused', { client: req.ip ?? 'local socket', retryAfterSeconds: waitSeconds });
      tooMany(res, waitSeconds);
      return;
    }
    const header = req.headers.authorization;
    // Digested once per request: for the cache's lookup here and, on a miss, its entry.
    const key = header === undefined ? undefined : cache.keyOf(header);
    if (key !== undefined) {
      const user = await remembered(key);
      if (user !== undefined) {
        (req as AuthenticatedRequest).auth = { user };
        next();
        return;
      }
    }
    if (isMalformed(header)) {
      // express-basic-auth would take it for no credentials; it is a failed login attempt.
      const answered = await refuse(req, res, { reason: 'malformed Authorization header' });
      if (!answered) res.set('WWW-Authenticate', `Basic realm="${REALM}"`).status(401).type('text/plain').send('The credentials were refused.\n');
      return;
    }
    // express-basic-auth reads the header, challenges and answers 401; built per request so
    // that its asynchronous authorizer can count a refusal against this caller's address.
    const middleware = basicAuth({
      challenge: true,
      realm: REALM,
      authorizeAsync: true,
      authorizer: (user: string, password: string, done: (error: null, approved: boolean) => void) => {
        decide(req, res, key, user, password).then(
          (verdict) => verdict !== 'answered' && done(null, verdict === 'ok'),
          (error: unknown) => {
            logger.error('the credentials could not be checked', { error: String(error) });
            done(null, false);
          },
        );
      },
      unauthorizedResponse: (refused: Request & { auth?: unknown }) => {
        if (refused.auth) return 'The credentials were refused.\n';
        onFailure?.('missing');
        return 'Credentials are required (HTTP basic auth).\n';
      },
    });
    middleware(req, res, (error?: unknown) => {
      // The password stays here: the rest of the gateway may know the caller's name only.
      const { user } = (req as Request & { auth: { user: string } }).auth;
      (req as AuthenticatedRequest).auth = { user };
      next(error);
    });
  };
}

/** A header that names no Basic user:password pair (absent or blank headers are not malformed). */
function isMalformed(header: string | undefined): boolean {
  if (header === undefined || header.trim() === '') return false;
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  return !match || !Buffer.from(match[1], 'base64').toString('utf8').includes(':');
}

function tooMany(res: Response, seconds: number): void {
  res.set('Retry-After', String(seconds)).status(429).type('text/plain').send(`Too many refused logins from this address; try again in ${seconds} s.\n`);
}
