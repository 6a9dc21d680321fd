import { DEFAULT_TIME_LIMIT_MS, type OperationName, defaultTimeLimitMs, operationNames } from '../../protocol/operations';
import { formatDuration, parseDuration } from '../../protocol/durations';

export type JobTimeouts = Readonly<Record<OperationName, number>>;

/**
 * Applies `--job-timeout` entries: `DURATION` sets every operation, `operation=DURATION` one.
 * Later entries win, so a general limit followed by specific ones reads naturally.
 */
export function resolveJobTimeouts(entries: readonly string[], problems: string[]): JobTimeouts {
  const timeouts = Object.fromEntries(operationNames.map((name) => [name, defaultTimeLimitMs(name)])) as Record<OperationName, number>;
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

/** The defaults of the operations table, for --help: the general one, then each other one. */
export function describeDefaultTimeouts(): string {
  const special = operationNames
    .filter((name) => defaultTimeLimitMs(name) !== DEFAULT_TIME_LIMIT_MS)
    .map((name) => `${name}=${formatDuration(defaultTimeLimitMs(name))}`)
    .join(', ');
  return `${formatDuration(DEFAULT_TIME_LIMIT_MS)}; except ${special}`;
}
