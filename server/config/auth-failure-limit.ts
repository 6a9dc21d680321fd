import { formatDuration, parseDuration } from '../../protocol/durations';

/** How many refused logins one client address may make per window before it must wait. */
export interface AuthFailureLimit {
  /** 0: no limit. */
  readonly count: number;
  readonly windowMs: number;
}

export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = Object.freeze({ count: 10, windowMs: 5 * 60_000 });

/** Parses `COUNT/DURATION` such as `10/5m`, or `0` for no limit. */
export function parseAuthFailureLimit(text: string | undefined, problems: string[]): AuthFailureLimit {
  if (text === undefined) return DEFAULT_AUTH_FAILURE_LIMIT;
  if (text.trim() === '0') return Object.freeze({ count: 0, windowMs: DEFAULT_AUTH_FAILURE_LIMIT.windowMs });
  const match = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  const windowMs = match ? parseDuration(match[2]) : undefined;
  if (!match || windowMs === undefined || Number(match[1]) < 1) {
    problems.push(`auth-failure-limit "${text}" is not COUNT/DURATION such as 10/5m (or 0 for no limit)`);
    return DEFAULT_AUTH_FAILURE_LIMIT;
  }
  return Object.freeze({ count: Number(match[1]), windowMs });
}

export function describeAuthFailureLimit(limit: AuthFailureLimit): string {
  return limit.count === 0 ? 'none' : `${limit.count} per ${formatDuration(limit.windowMs)}`;
}
