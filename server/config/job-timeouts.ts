import { type OperationName, operationNames } from '../../protocol/operations';
import { formatDuration, parseDuration } from './durations';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Builds and garbage collections can take hours, so the general limit is generous. */
export const DEFAULT_JOB_TIMEOUT_MS = 12 * HOUR;

/**
 * Tighter limits where a long wait only ever means trouble: the real disnix-service sends no
 * signal at all when `export` or `capture_config` fail, so those calls end only by this limit.
 */
const DEFAULT_OVERRIDES: Partial<Record<OperationName, number>> = {
  export: 2 * HOUR,
  exportRemoteFile: 2 * HOUR,
  captureConfig: 10 * MINUTE,
  lock: HOUR,
  unlock: HOUR,
  printInvalid: HOUR,
  queryInstalled: HOUR,
  queryRequisites: HOUR,
  queryAllSnapshots: HOUR,
  queryLatestSnapshot: HOUR,
  printMissingSnapshots: HOUR,
  resolveSnapshots: HOUR,
};

export type JobTimeouts = Readonly<Record<OperationName, number>>;

/**
 * Applies `--job-timeout` entries: `DURATION` sets every operation, `operation=DURATION` one.
 * Later entries win, so a general limit followed by specific ones reads naturally.
 */
export function resolveJobTimeouts(entries: readonly string[], problems: string[]): JobTimeouts {
  const timeouts = Object.fromEntries(
    operationNames.map((name) => [name, DEFAULT_OVERRIDES[name] ?? DEFAULT_JOB_TIMEOUT_MS]),
  ) as Record<OperationName, number>;
  for (const entry of entries.flatMap((e) => e.split(',')).filter((e) => e.trim() !== '')) {
    const [name, value] = entry.includes('=') ? entry.split('=', 2) : [undefined, entry];
    const ms = parseDuration(value);
    if (ms === undefined) {
      problems.push(`--job-timeout ${entry}: "${value}" is not a duration such as 90s, 30m, 12h or 2d`);
    } else if (name === undefined) {
      for (const op of operationNames) timeouts[op] = ms;
    } else if ((operationNames as string[]).includes(name.trim())) {
      timeouts[name.trim() as OperationName] = ms;
    } else {
      problems.push(`--job-timeout ${entry}: "${name}" is not an operation (${operationNames.join(', ')})`);
    }
  }
  return Object.freeze(timeouts);
}

export function describeDefaultTimeouts(): string {
  const special = Object.entries(DEFAULT_OVERRIDES)
    .map(([op, ms]) => `${op}=${formatDuration(ms)}`)
    .join(', ');
  return `${formatDuration(DEFAULT_JOB_TIMEOUT_MS)}; except ${special}`;
}
