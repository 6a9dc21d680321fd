const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Durations as gateway and client take them: `90s`, `10m`, `12h`, `1d`, `250ms` or a bare number
 * of seconds, in milliseconds; undefined if malformed, and for zero unless `allowZero` (where 0
 * means "no limit").
 */
export function parseDuration(text: string, { allowZero = false } = {}): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']);
  return Number.isFinite(ms) && (ms > 0 || (allowZero && ms === 0)) ? ms : undefined;
}

export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
