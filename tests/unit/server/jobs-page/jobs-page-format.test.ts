import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../../testing/paths';

/** The jobs page's formats, from the very file the page loads (a plain script, no build step). */
const { formatDuration, formatTimestamp } = require(join(PROJECT_ROOT, 'server/jobs-page/static/jobs-page-format.js')) as {
  formatDuration(ms: unknown): string;
  formatTimestamp(date: unknown): string;
};

test('durations carry the precision that means something at their size, never a row of digits', () => {
  const cases: [number, string][] = [
    [0, '0 ms'],
    [850, '850 ms'],
    [999.4, '999 ms'],
    [999.6, '1.0 s'],
    [2_449, '2.4 s'],
    [9_949, '9.9 s'],
    [9_950, '10 s'],
    [42_300, '42 s'],
    [59_600, '1 min 00 s'],
    [192_000, '3 min 12 s'],
    [3_840_000, '1 h 04 min'],
    [12 * 3_600_000 + 59 * 60_000, '12 h 59 min'],
    [3 * 86_400_000 + 2 * 3_600_000, '3 d 02 h'],
  ];
  for (const [ms, text] of cases) expect(`${ms}: ${formatDuration(ms)}`).toBe(`${ms}: ${text}`);
  expect(formatDuration(1234.5678901234)).toBe('1.2 s');
});

test('a missing or impossible duration shows as a dash', () => {
  for (const value of [null, undefined, Number.NaN, -5, '12']) expect(formatDuration(value)).toBe('—');
});

test('the start shows the date with the time, in the browser time zone, alike in every locale', () => {
  expect(formatTimestamp(new Date(2026, 11, 8, 14, 3, 21, 900))).toBe('2026-12-08 14:03:21');
  expect(formatTimestamp(new Date(2027, 0, 1, 0, 0, 0))).toBe('2027-01-01 00:00:00');
  expect(formatTimestamp(new Date('not a date'))).toBe('—');
});
