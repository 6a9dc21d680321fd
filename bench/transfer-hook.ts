import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, BenchRow } from './bench-types';

/**
 * The transfer figures come from bench/transfer.ts, kept by the file-transfer work: it exports
 * `runTransferBench(context: BenchContext): Promise<BenchRow[]>`, each row against a baseline
 * of the same run like every other. Loaded only if it is there, so the rest runs without it.
 */
export async function runTransferFigures(context: BenchContext): Promise<BenchRow[] | undefined> {
  const file = join(__dirname, 'transfer.js');
  if (!existsSync(file)) return undefined;
  const transfer = require(file) as { runTransferBench?: (context: BenchContext) => Promise<BenchRow[]> };
  if (typeof transfer.runTransferBench !== 'function') throw new Error(`${file} exports no runTransferBench(context)`);
  return transfer.runTransferBench(context);
}
