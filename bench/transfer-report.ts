import { type BenchRow, ratioRow } from './bench-types';

/** The transfer benchmark's figures, and how they are shown. */
export interface TransferMeasure {
  readonly seconds: number;
  readonly mibPerSecond: number;
  /** The bytes that arrived have the sender's digest. */
  readonly intact: boolean;
  readonly clientPeakRssMiB?: number;
}

export interface DirectionPair {
  readonly upload: TransferMeasure;
  readonly download: TransferMeasure;
  /** Peak RSS of the receiving/sending server process over both directions. */
  readonly serverPeakRssMiB?: number;
}

export interface TransferSizeResult {
  readonly label: string;
  readonly bytes: number;
  readonly gateway: DirectionPair;
  readonly plainHttp: DirectionPair;
  readonly scp?: DirectionPair;
}

export interface TransferBenchResult {
  readonly startedAt: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly memoryGiB: number; readonly node: string };
  /** Whether scp was measured, or why not. */
  readonly scp: string;
  readonly sizes: readonly TransferSizeResult[];
  readonly notes: readonly string[];
}

/** Targets of issue 4, for the 1 GiB transfers. */
export const RATE_TARGET = 0.8;

export function sizeLabel(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${+(bytes / 1024 ** 3).toFixed(2)} GiB` : `${+(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

export function formatTransferTable(result: TransferBenchResult): string {
  const header = [
    'Size',
    'Direction',
    'Gateway MiB/s',
    'Plain HTTP MiB/s',
    'Ratio',
    'scp MiB/s',
    'Gateway peak RSS',
    'Client peak RSS',
    'HTTP server/client RSS',
    'Intact',
  ];
  const rows: string[][] = [];
  const rss = (mib?: number) => (mib === undefined ? '-' : `${mib.toFixed(0)} MiB`);
  for (const size of result.sizes) {
    for (const direction of ['upload', 'download'] as const) {
      const gateway = size.gateway[direction];
      const plain = size.plainHttp[direction];
      const scp = size.scp?.[direction];
      rows.push([
        size.label,
        direction,
        gateway.mibPerSecond.toFixed(0),
        plain.mibPerSecond.toFixed(0),
        (gateway.mibPerSecond / plain.mibPerSecond).toFixed(2),
        scp ? scp.mibPerSecond.toFixed(0) : '-',
        rss(size.gateway.serverPeakRssMiB),
        rss(gateway.clientPeakRssMiB),
        `${rss(size.plainHttp.serverPeakRssMiB)} / ${rss(plain.clientPeakRssMiB)}`,
        [gateway, plain, ...(scp ? [scp] : [])].every((m) => m.intact) ? 'yes' : 'NO',
      ]);
    }
  }
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [
    `Transfers over loopback; machine: ${result.machine.cpus} CPUs (${result.machine.cpuModel}), ${result.machine.memoryGiB} GiB RAM, Node.js ${result.machine.node}`,
    '',
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
    '',
    `scp: ${result.scp}`,
    ...result.notes.map((note) => `Note: ${note}`),
    '',
  ].join('\n');
}

/** The figures as rows of `npm run bench`: each rate against plain HTTP, each peak RSS against the plain HTTP server's. */
export function transferRows(result: TransferBenchResult): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const size of result.sizes) {
    const gib = size.bytes >= 1024 ** 3;
    for (const direction of ['upload', 'download'] as const) {
      const gateway = size.gateway[direction];
      const plain = size.plainHttp[direction];
      const scp = size.scp?.[direction];
      const ratio = gateway.mibPerSecond / plain.mibPerSecond;
      rows.push(
        ratioRow({
          measure: `${direction} ${size.label} through the gateway`,
          value: gateway.mibPerSecond,
          unit: 'MiB/s',
          baselineLabel: 'plain HTTP over loopback',
          baseline: plain.mibPerSecond,
          ...(gib
            ? {
                target: `>= ${RATE_TARGET} of plain HTTP${scp ? ', faster than scp' : ''}`,
                met: ratio >= RATE_TARGET && (!scp || gateway.mibPerSecond > scp.mibPerSecond),
              }
            : {}),
          note:
            [scp ? `scp ${scp.mibPerSecond.toFixed(0)} MiB/s` : undefined, gateway.intact ? undefined : 'NOT INTACT'].filter(Boolean).join('; ') || undefined,
        }),
      );
    }
    if (size.gateway.serverPeakRssMiB !== undefined && size.plainHttp.serverPeakRssMiB !== undefined) {
      rows.push(
        ratioRow({
          measure: `gateway peak RSS, ${size.label} up and down`,
          value: size.gateway.serverPeakRssMiB,
          unit: 'MiB',
          baselineLabel: 'plain HTTP server',
          baseline: size.plainHttp.serverPeakRssMiB,
          note: `client peak ${[size.gateway.upload.clientPeakRssMiB, size.gateway.download.clientPeakRssMiB].map((v) => v?.toFixed(0) ?? '-').join('/')} MiB (up/down)`,
        }),
      );
    }
  }
  return rows;
}
