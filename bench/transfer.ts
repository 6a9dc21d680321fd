#!/usr/bin/env node
/**
 * Transfer benchmark: closures of 64 MiB, 1 GiB and 4 GiB up (`--import --localfile`) and down
 * (`--export --remotefile`) through disnix-soap-client and the gateway, side by side in the same
 * run with plain HTTP PUT/GET of the same file over loopback (the ceiling) and scp over loopback
 * (the SSH transport's way), with the peak RSS of the gateway and of the client per size. Every
 * transfer's result is checked against the payload's digest.
 *
 *   node dist-dev/bench/transfer.js [--sizes 64m,1g,4g] [--tmp-dir DIR] [--no-scp] [--no-install] [--out FILE]
 *
 * --tmp-dir puts payloads, uploads and downloads there (e.g. /dev/shm, to take the disk out of
 * the comparison); by default the system temp directory.
 *
 * disnix-service is stood in for by transfer-daemon.js, whose import copies what it reads (the
 * gateway's named pipe, as the upload arrives) into a kept file and whose export serves the
 * payload, so that only the transfer is measured. Prints a Markdown table and
 * writes bench/results/transfer.json. `npm run bench` calls runTransferBench().
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPrivateBus } from '../demo/private-bus';
import type { BenchContext, BenchRow } from './bench-types';
import { freeLoopbackPort } from './free-port';
import { ensureOpenssh, startLoopbackSshd } from './loopback-sshd';
import {
  type DirectionPair,
  type TransferBenchResult,
  type TransferMeasure,
  type TransferSizeResult,
  formatTransferTable,
  sizeLabel,
  transferRows,
} from './transfer-report';
import { type Finished, type Service, digest, httpReady, nodeArgs, printed, runMeasured, startService, writePayload } from './transfer-processes';

// The product's build, as it runs in production (this benchmark runs from dist-dev/).
const DIST = join(__dirname, '..', '..', 'dist');
const SCRIPTS = {
  gateway: join(DIST, 'server', 'main.js'),
  client: join(DIST, 'soap-client', 'main.js'),
  daemon: join(__dirname, 'transfer-daemon.js'),
  plain: join(__dirname, 'plain-http.js'),
};
const MIB = 1024 ** 2;
export const DEFAULT_SIZES = [64 * MIB, 1024 * MIB, 4096 * MIB];

export interface TransferBenchOptions {
  readonly sizes?: readonly number[];
  /** Scratch space; payloads and their copies need about three times the largest size. */
  readonly tmpDir?: string;
  readonly scp?: boolean;
  /** Install openssh-server from Debian for the scp baseline when it is missing (as root). */
  readonly installOpenssh?: boolean;
  /** Date.now() after which no further size is started. */
  readonly deadline?: number;
  log?(message: string): void;
}

export async function measureTransfers(options: TransferBenchOptions = {}): Promise<TransferBenchResult> {
  const log = options.log ?? (() => {});
  const rig = await startTransferRig(options);
  try {
    const notes: string[] = [];
    const sizes: TransferSizeResult[] = [];
    for (const bytes of options.sizes ?? DEFAULT_SIZES) {
      if (options.deadline !== undefined && Date.now() > options.deadline) {
        notes.push(`${sizeLabel(bytes)} not measured: out of time`);
        continue;
      }
      log(`transfer: ${sizeLabel(bytes)}`);
      sizes.push(await measureSize(rig, bytes, log));
    }
    const machine = {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
    };
    return { startedAt: new Date().toISOString(), machine, scp: rig.scpStatus, sizes, notes };
  } finally {
    await rig.close();
  }
}

/** What every transfer runs against: a scratch directory, a private bus with the stand-in daemon, and an sshd when asked for. */
export interface TransferRig {
  readonly work: string;
  readonly busAddress: string;
  readonly scp?: ScpTarget;
  /** Whether scp can be measured, or why not. */
  readonly scpStatus: string;
  /** Stops all of it and removes the scratch directory. */
  close(): Promise<void>;
}

export async function startTransferRig(options: Pick<TransferBenchOptions, 'tmpDir' | 'scp' | 'installOpenssh' | 'log'>): Promise<TransferRig> {
  const log = options.log ?? (() => {});
  const work = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'transfer-bench-'));
  const cleanups: (() => unknown)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  };
  try {
    const bus = await startPrivateBus({ dir: join(work, 'bus') });
    cleanups.push(() => bus.stop());
    const daemon = await startService(
      process.execPath,
      [SCRIPTS.daemon, '--bus-address', bus.address, '--state-dir', join(work, 'daemon')],
      process.env,
      work,
      printed('ready'),
    );
    cleanups.push(() => daemon.stop());
    let scp: ScpTarget | undefined;
    let scpStatus = 'not measured (--no-scp)';
    if (options.scp !== false) {
      if (!ensureOpenssh(options.installOpenssh === true, log)) scpStatus = 'not measured: no sshd here (Debian package openssh-server)';
      else {
        const target = scpTarget(await startLoopbackSshd(join(work, 'sshd')));
        scp = target;
        cleanups.push(() => target.stop());
        scpStatus = 'measured against an sshd of our own on a loopback port (default cipher)';
      }
    }
    return { work, busAddress: bus.address, scp, scpStatus, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function measureSize(rig: TransferRig, bytes: number, log: (message: string) => void): Promise<TransferSizeResult> {
  const { work, scp } = rig;
  const payload = join(work, 'payload');
  await writePayload(payload, bytes);
  try {
    const check = await checker(payload, bytes);
    const gateway = await measureGateway(work, rig.busAddress, payload, check);
    log(`  gateway: up ${gateway.upload.mibPerSecond.toFixed(0)} MiB/s, down ${gateway.download.mibPerSecond.toFixed(0)} MiB/s`);
    const plainHttp = await measurePlainHttp(work, payload, check);
    log(`  plain HTTP: up ${plainHttp.upload.mibPerSecond.toFixed(0)} MiB/s, down ${plainHttp.download.mibPerSecond.toFixed(0)} MiB/s`);
    let scpPair: DirectionPair | undefined;
    if (scp) {
      scpPair = await measureScp(scp, work, payload, check);
      log(`  scp: up ${scpPair.upload.mibPerSecond.toFixed(0)} MiB/s, down ${scpPair.download.mibPerSecond.toFixed(0)} MiB/s`);
    }
    return { label: sizeLabel(bytes), bytes, gateway, plainHttp, scp: scpPair };
  } finally {
    await rm(payload, { force: true });
  }
}

/** Checks that a received file has the payload's digest, then removes it; the rate is the payload's size over the time taken. */
export type Check = (path: string, finished: Finished) => Promise<TransferMeasure>;

export async function checker(payload: string, bytes: number): Promise<Check> {
  const expected = await digest(payload);
  return async (path, finished) => {
    const intact = (await digest(path)) === expected;
    await rm(path, { force: true });
    return { seconds: finished.seconds, mibPerSecond: bytes / MIB / finished.seconds, intact, clientPeakRssMiB: finished.peakRssMiB };
  };
}

/** scp of the payload to the sshd and back, with `extra` options (e.g. -C). */
export async function measureScp(scp: ScpTarget, work: string, payload: string, check: Check, extra: readonly string[] = []): Promise<DirectionPair> {
  const copy = join(work, 'scp-copy');
  const options = [...extra, ...scp.options];
  const upload = await check(copy, await runMeasured('scp', [...options, payload, `${scp.login}:${copy}`], process.env, work));
  const download = await check(copy, await runMeasured('scp', [...options, `${scp.login}:${payload}`, copy], process.env, work));
  return { upload, download };
}

/** `clientEnv` adds to the client's environment, such as DISNIX_SOAP_CLIENT_COMPRESS. */
export async function measureGateway(
  work: string,
  busAddress: string,
  payload: string,
  check: Check,
  moreClientEnv: Readonly<Record<string, string>> = {},
): Promise<DirectionPair> {
  const port = await freeLoopbackPort();
  const uploads = join(work, 'uploads');
  const clientTmp = join(work, 'client-tmp');
  await Promise.all([uploads, clientTmp].map((dir) => mkdir(dir, { recursive: true })));
  const credentials = { DISNIX_WEBSERVICE_USERNAME: 'bench', DISNIX_WEBSERVICE_PASSWORD: `bench-${process.pid}` };
  const args = ['--host', '127.0.0.1', '--port', String(port), '--bus-address', busAddress, '--upload-dir', uploads, '--log-level', 'warn'];
  const url = `http://127.0.0.1:${port}/DisnixWebService/services/DisnixWebService`;
  const auth = `Basic ${Buffer.from(`${credentials.DISNIX_WEBSERVICE_USERNAME}:${credentials.DISNIX_WEBSERVICE_PASSWORD}`).toString('base64')}`;
  const gateway: Service = await startService(
    process.execPath,
    nodeArgs(SCRIPTS.gateway, args),
    { ...process.env, ...credentials },
    work,
    httpReady(`${url}?wsdl`, auth),
  );
  const clientEnv = {
    PATH: process.env.PATH,
    TMPDIR: clientTmp,
    DISNIX_SOAP_CLIENT_USERNAME: credentials.DISNIX_WEBSERVICE_USERNAME,
    DISNIX_SOAP_CLIENT_PASSWORD: credentials.DISNIX_WEBSERVICE_PASSWORD,
    ...moreClientEnv,
  };
  try {
    const up = await runMeasured(process.execPath, nodeArgs(SCRIPTS.client, ['--target', url, '--import', '--localfile', payload]), clientEnv, work);
    const imported = join(work, 'daemon', 'imported');
    const [kept] = await readdir(imported);
    const upload = await check(join(imported, kept), up);
    const down = await runMeasured(process.execPath, nodeArgs(SCRIPTS.client, ['--target', url, '--export', '--remotefile', payload]), clientEnv, work);
    const download = await check(down.stdout.trim(), down);
    return { upload, download, serverPeakRssMiB: await gateway.stop() };
  } finally {
    await gateway.stop();
  }
}

export async function measurePlainHttp(work: string, payload: string, check: Check): Promise<DirectionPair> {
  const port = await freeLoopbackPort();
  const served = join(work, 'served');
  await mkdir(served, { recursive: true });
  const server = await startService(process.execPath, nodeArgs(SCRIPTS.plain, ['serve', String(port), served]), process.env, work, printed('ready'));
  try {
    const url = `http://127.0.0.1:${port}/file`;
    const up = await runMeasured(process.execPath, nodeArgs(SCRIPTS.plain, ['put', url, payload]), process.env, work);
    const upload = await checkKeep(join(served, 'file'), up, check);
    const received = join(work, 'plain-get');
    const download = await check(received, await runMeasured(process.execPath, nodeArgs(SCRIPTS.plain, ['get', url, received]), process.env, work));
    await rm(join(served, 'file'), { force: true });
    return { upload, download, serverPeakRssMiB: await server.stop() };
  } finally {
    await server.stop();
  }
}

/** Checks an uploaded file that the download then serves: copies the verdict, keeps the file. */
async function checkKeep(path: string, finished: Finished, check: Check): Promise<TransferMeasure> {
  const twin = `${path}.check`;
  await link(path, twin);
  return check(twin, finished);
}

export interface ScpTarget {
  readonly options: readonly string[];
  readonly login: string;
  stop(): void;
}

/** scp options from the `ssh ... true` command of the loopback sshd: same port, key, user and -o options. */
function scpTarget(sshd: { command: readonly string[]; stop(): void }): ScpTarget {
  const { command } = sshd;
  const after = (flag: string) => command[command.indexOf(flag) + 1];
  const options = ['-q', '-F', '/dev/null', '-P', after('-p'), '-i', after('-i')];
  command.forEach((word, i) => {
    if (word === '-o') options.push('-o', command[i + 1]);
  });
  return { options, login: command[command.length - 2], stop: () => sshd.stop() };
}

function writeResults(result: TransferBenchResult, name: string): string {
  const file = isAbsolute(name) ? name : join(__dirname, '..', '..', 'bench', 'results', name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** For `npm run bench`: the standard sizes (a small one with --quick), as rows against plain HTTP. */
export async function runTransferBench(context: Partial<BenchContext> & TransferBenchOptions = {}): Promise<BenchRow[]> {
  const quick = context.quick === true;
  const result = await measureTransfers({
    ...context,
    sizes: context.sizes ?? (quick ? [16 * MIB] : DEFAULT_SIZES),
    installOpenssh: context.installOpenssh ?? !quick,
  });
  writeResults(result, quick ? 'transfer-quick.json' : 'transfer.json');
  context.log?.(`transfer figures:\n${formatTransferTable(result)}`);
  return transferRows(result);
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg])?i?b?$/i.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a size such as 64m or 1g`);
  return Math.round(Number(match[1]) * { k: 1024, m: MIB, g: 1024 * MIB }[(match[2] ?? 'm').toLowerCase() as 'k' | 'm' | 'g']);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      'tmp-dir': { type: 'string' },
      'no-scp': { type: 'boolean' },
      'no-install': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('Usage: node dist-dev/bench/transfer.js [--sizes 64m,1g,4g] [--tmp-dir DIR] [--no-scp] [--no-install] [--out FILE]\n');
    return;
  }
  const sizes = values.sizes?.split(',').map(parseSize) ?? DEFAULT_SIZES;
  const result = await measureTransfers({
    sizes,
    tmpDir: values['tmp-dir'],
    scp: !values['no-scp'],
    installOpenssh: !values['no-install'],
    log: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(formatTransferTable(result));
  const file = writeResults(result, values.out ?? 'transfer.json');
  process.stderr.write(`results written to ${file}\n`);
  if (result.sizes.some((size) => [size.gateway, size.plainHttp, ...(size.scp ? [size.scp] : [])].some((pair) => !pair.upload.intact || !pair.download.intact)))
    process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`transfer bench: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
