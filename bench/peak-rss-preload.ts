/**
 * Loaded with `node -r` into every process the transfer benchmark measures: at exit it writes
 * the process's peak resident set size (VmHWM, in KiB) to $BENCH_PEAK_RSS_FILE, so the peak of a
 * process is known even after it is gone.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const target = process.env.BENCH_PEAK_RSS_FILE;
if (target) {
  process.on('exit', () => {
    try {
      const kib = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
      if (kib) writeFileSync(target, `${kib}\n`);
    } catch {
      // no /proc (not Linux): no figure
    }
  });
}
