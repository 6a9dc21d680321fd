/** A closed-loop load: `concurrency` callers, each calling again as soon as its call ends. */
export interface LoadOptions {
  readonly concurrency: number;
  /** Stop after this many calls in all ... */
  readonly count: number;
  /** ... or at this Date.now(), whichever comes first. */
  readonly until: number;
  readonly call: () => Promise<void>;
}

export interface LoadResult {
  /** Latency of each successful call, in milliseconds. */
  readonly latencies: number[];
  readonly errors: number;
  readonly firstError?: string;
  readonly wallMs: number;
  /** Successful calls per second over the wall time. */
  readonly rate: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let issued = 0;
  const started = process.hrtime.bigint();
  const caller = async () => {
    while (issued < options.count && Date.now() < options.until) {
      issued += 1;
      const t0 = process.hrtime.bigint();
      try {
        await options.call();
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch (error) {
        errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, caller));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { latencies, errors, firstError, wallMs, rate: (latencies.length * 1000) / wallMs };
}

/** The q-quantile (0..1) of the values, nearest-rank. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}
