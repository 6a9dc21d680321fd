/**
 * One figure of the benchmark, always next to a baseline measured in the same run: this machine
 * is shared and noisy, so a figure alone says little, its ratio to the baseline says more.
 */
export interface BenchRow {
  /** What was measured, e.g. "queryInstalled p50, 1 caller". */
  readonly measure: string;
  readonly value: number;
  readonly unit: string;
  /** What the baseline is, e.g. "same job, direct D-Bus". */
  readonly baselineLabel: string;
  readonly baseline: number;
  /** value / baseline. */
  readonly ratio: number;
  /** The target in words, e.g. "overhead < 1 ms", if the figure has one. */
  readonly target?: string;
  readonly met?: boolean;
  readonly note?: string;
}

/** What every section of the benchmark gets: where the gateway is, and how much to do. */
export interface BenchContext {
  /** The SOAP endpoint, e.g. http://127.0.0.1:PORT/DisnixWebService/services/DisnixWebService */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly busAddress: string;
  /** The demo disnix-service's state directory (its store is `<stateDir>/store`). */
  readonly demoStateDir: string;
  readonly demoStoreDir: string;
  /** A scratch directory, removed after the run. */
  readonly tmpDir: string;
  /** A tiny run: seconds, not minutes. */
  readonly quick: boolean;
  /** Date.now() by which the whole run must end; sections check it and cut themselves short. */
  readonly deadline: number;
  /** Progress for the person running the benchmark (stderr). */
  log(message: string): void;
}

export function ratioRow(row: Omit<BenchRow, 'ratio'>): BenchRow {
  return { ...row, ratio: row.baseline === 0 ? Number.NaN : row.value / row.baseline };
}
