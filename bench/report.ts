import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { BenchRow } from './bench-types';

/** What the figures were measured on: they mean little without it. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export function machineInfo(): MachineInfo {
  const gib = (bytes: number) => Math.round((bytes / 1024 ** 3) * 10) / 10;
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** A Markdown table, so that the README can show it as printed. */
export function formatTable(rows: readonly BenchRow[], machine: MachineInfo): string {
  const header = ['Measure', 'Gateway', 'Baseline', 'Ratio', 'Target', 'Met', 'Notes'];
  const lines = rows.map((row) => [
    row.measure,
    `${formatNumber(row.value)} ${row.unit}`,
    `${formatNumber(row.baseline)} ${row.unit} (${row.baselineLabel})`,
    Number.isFinite(row.ratio) ? row.ratio.toFixed(2) : '-',
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
    row.note ?? '',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM, Node.js ${machine.node}, ${machine.platform}`,
    '',
    format(header),
    format(widths.map((width) => '-'.repeat(width))),
    ...lines.map(format),
    '',
  ].join('\n');
}

export function writeResults(
  file: string,
  results: { machine: MachineInfo; quick: boolean; startedAt: string; rows: readonly BenchRow[]; skipped: readonly string[] },
): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 100) return Math.round(value).toString();
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}
