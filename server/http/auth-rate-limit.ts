import type { Request, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { AuthFailureLimit } from '../config/auth-failure-limit';

/**
 * Counts refused logins per client address (express-rate-limit's store and windows) and
 * blocks an address that used up its allowance until its window ends.
 *
 * Only refused credentials are counted, never calls, so a coordinator firing thousands of
 * authenticated calls at once is never slowed down. The check comes before the password is
 * looked at: a blocked address learns nothing, not even whether its next guess was right.
 */
export interface AuthFailureLimiter {
  /** Seconds until the address may try again, or undefined when it may now. */
  blockedFor(req: Request): Promise<number | undefined>;
  /** Counts a refused attempt; answers seconds to wait when it was one over the allowance (a race of concurrent guesses). */
  recordFailure(req: Request, res: Response): Promise<number | undefined>;
}

export function createAuthFailureLimiter(limit: AuthFailureLimit): AuthFailureLimiter {
  if (limit.count === 0) return { blockedFor: async () => undefined, recordFailure: async () => undefined };
  const limiter = rateLimit({
    windowMs: limit.windowMs,
    limit: limit.count,
    keyGenerator: clientKey,
    // The answer (429 or 401) is sent by the caller of recordFailure, with its own headers.
    standardHeaders: false,
    legacyHeaders: false,
    handler: (req, _res, next) => {
      (req as LimitedRequest).authLimited = true;
      next();
    },
    // Behind a proxy without --trust-proxy every caller shares the proxy's address; the
    // package would say so on the console, outside the gateway's log. The README says it.
    validate: { xForwardedForHeader: false },
  });

  const secondsLeft = (resetTime: Date | undefined) => Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + limit.windowMs) - Date.now()) / 1000));

  return {
    async blockedFor(req) {
      const info = await limiter.getKey(clientKey(req));
      if (info === undefined || info.totalHits < limit.count) return undefined;
      if (info.resetTime !== undefined && info.resetTime.getTime() <= Date.now()) return undefined;
      return secondsLeft(info.resetTime);
    },
    async recordFailure(req, res) {
      await new Promise<void>((resolve, reject) => {
        Promise.resolve(limiter(req, res, (error?: unknown) => (error ? reject(error) : resolve()))).catch(reject);
      });
      if ((req as LimitedRequest).authLimited !== true) return undefined;
      return secondsLeft((await limiter.getKey(clientKey(req)))?.resetTime);
    },
  };
}

interface LimitedRequest extends Request {
  authLimited?: boolean;
}

/** IPv6 callers are grouped by their /56, as one host usually has a whole prefix. */
function clientKey(req: Request): string {
  const ip = req.ip ?? req.socket.remoteAddress;
  return ip ? ipKeyGenerator(ip) : 'local-socket';
}
