#!/usr/bin/env node
/**
 * Slow-link benchmark (issue 16): a closure made of this machine's shared libraries goes up
 * (`--import --localfile`) and down (`--export --remotefile`) through disnix-soap-client and the
 * gateway over a 100 Mbit/s link, next to scp of the same file as the SSH transport does it and
 * scp -C, all in the same run.
 *
 * The link is the loopback of a network namespace made here (`ip netns`), shaped with `tc ... tbf`
 * (netem is not available on these machines). Everything that talks over it runs inside: this
 * script re-runs itself there with `ip netns exec NS ... --inside`, and that process starts the
 * private dbus-daemon, the stand-in daemon, the gateway, an sshd and the clients as its children
 * (with the pieces of transfer.ts), then prints its figures as JSON. The namespace is deleted, and
 * whatever still runs in it killed, when the run ends, fails or is interrupted.
 *
 *   node dist-dev/bench/slowlink.js [--closure-mib 96] [--no-install] [--out FILE]
 *
 * Needs root (ip netns, tc) and an sshd (installed from Debian when missing, unless --no-install).
 * `npm run bench -- --only slowlink` calls runSlowlinkBench(); --quick leaves it out.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { type BenchRow, ratioRow } from './bench-types';
import { ensureOpenssh } from './loopback-sshd';
import { checker, measureGateway, measurePlainHttp, measureScp, startTransferRig } from './transfer';
import type { DirectionPair } from './transfer-report';

const MIB = 1024 ** 2;
const DEFAULT_CLOSURE_MIB = 96;
/** Issue 16's targets, for the work that adds compression and overlap to the transfers. */
const TARGET_OVER_SCP = 2;
const TARGET_OVER_SCP_COMPRESSED = 1.3;
/** Long enough for six transfers at 100 Mbit/s with room to spare; the run is killed after it. */
const INSIDE_TIMEOUT_MS = 8 * 60_000;

/**
 * The link: 100 Mbit/s with an Ethernet MTU. A burst of 32 KiB (about 22 full frames, 2.6 ms of
 * the link) is more than one frame, as tbf needs, yet lets nothing run above the rate for longer
 * than that; a latency of 20 ms bounds the queue at about 250 KB, a switch's or router's buffer,
 * which keeps one TCP flow's link busy without bloating its round trip.
 */
export const LINK = { rate: '100mbit', burst: '32kb', latency: '20ms', mtu: 1500 } as const;

export interface SlowlinkResult {
  readonly startedAt: string;
  readonly link: typeof LINK;
  readonly closure: { readonly source: string; readonly files: number; readonly bytes: number; readonly gzip1Bytes: number };
  readonly gateway: DirectionPair;
  /** Plain HTTP PUT/GET of the same file: what the link gives without compression. */
  readonly plainHttp: DirectionPair;
  readonly scp: DirectionPair;
  readonly scpCompressed: DirectionPair;
}

/** What the figures inside the namespace come back as (the closure is described outside). */
type Measured = Pick<SlowlinkResult, 'gateway' | 'plainHttp' | 'scp' | 'scpCompressed'>;

export interface SlowlinkOptions {
  readonly closureMiB?: number;
  /** Install openssh-server from Debian when it is missing (outside the namespace, which has no network). */
  readonly installOpenssh?: boolean;
  log?(message: string): void;
}

/** Why the slow-link bench cannot run here, or undefined when it can. */
export function slowlinkUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (ip netns, tc)';
  for (const tool of ['/usr/sbin/ip', '/usr/sbin/tc', '/usr/bin/scp', '/usr/bin/tar']) if (!existsSync(tool)) return `${tool} is missing`;
  return undefined;
}

export async function measureSlowlink(options: SlowlinkOptions = {}): Promise<SlowlinkResult> {
  const log = options.log ?? (() => {});
  const unavailable = slowlinkUnavailable();
  if (unavailable !== undefined) throw new Error(`slowlink: ${unavailable}`);
  if (!ensureOpenssh(options.installOpenssh === true, log)) throw new Error('slowlink: no sshd here (Debian package openssh-server)');
  const work = await mkdtemp(join(tmpdir(), 'slowlink-bench-'));
  const namespace = new Namespace(`disnix-slowlink-${process.pid}`);
  // Interrupted runs end through process.exit, past the finally below.
  const removeWork = () => rmSync(work, { recursive: true, force: true });
  process.once('exit', removeWork);
  try {
    log('slowlink: making the closure');
    const closure = makeClosure(join(work, 'closure.tar'), (options.closureMiB ?? DEFAULT_CLOSURE_MIB) * MIB);
    const gzip1Bytes = await gzipSize(closure.path, 1);
    log(`slowlink: ${(closure.bytes / MIB).toFixed(1)} MiB, ${closure.files} files; gzip -1 ${(closure.bytes / gzip1Bytes).toFixed(2)}x`);
    namespace.create();
    log(`slowlink: namespace ${namespace.name}, lo at ${LINK.rate} (tbf burst ${LINK.burst}, latency ${LINK.latency}, mtu ${LINK.mtu})`);
    const measured = await namespace.runInside(
      [process.execPath, __filename, '--inside', '--payload', closure.path, '--work-dir', work],
      INSIDE_TIMEOUT_MS,
      (line) => log(`slowlink: ${line}`),
    );
    return {
      startedAt: new Date().toISOString(),
      link: LINK,
      closure: { source: closure.source, files: closure.files, bytes: closure.bytes, gzip1Bytes },
      ...(JSON.parse(measured) as Measured),
    };
  } finally {
    namespace.remove();
    process.off('exit', removeWork);
    removeWork();
  }
}

/** A network namespace of this run's own: created with its loopback shaped, removed with whatever runs in it. */
class Namespace {
  readonly #removeOnExit = () => this.remove();

  constructor(readonly name: string) {}

  create(): void {
    removeStaleNamespaces();
    process.once('exit', this.#removeOnExit);
    ip(['netns', 'add', this.name]);
    ip(['-n', this.name, 'link', 'set', 'lo', 'mtu', String(LINK.mtu), 'up']);
    const tc = spawnSync('tc', ['-n', this.name, 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', LINK.rate, 'burst', LINK.burst, 'latency', LINK.latency], {
      encoding: 'utf8',
    });
    if (tc.status !== 0) throw new Error(`tc qdisc add ... tbf failed: ${tc.stderr.trim()}`);
  }

  /** Runs argv inside the namespace; resolves with its stdout, passes its stderr lines on. */
  async runInside(argv: readonly string[], timeoutMs: number, onLine: (line: string) => void): Promise<string> {
    const child = spawn('ip', ['netns', 'exec', this.name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    try {
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      if (code !== 0) throw new Error(`the run inside ${this.name} failed (${signal ?? code}): ${pending.trim()}`);
      return stdout;
    } finally {
      clearTimeout(timer);
    }
  }

  remove(): void {
    process.off('exit', this.#removeOnExit);
    removeNamespace(this.name);
  }
}

function ip(args: readonly string[]): void {
  const run = spawnSync('ip', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${run.stderr.trim()}`);
}

/** Kills what still runs in the namespace (only this run's processes can be there), then deletes it. */
function removeNamespace(name: string): void {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  if (!listed.split('\n').some((line) => line.split(' ')[0] === name)) return;
  for (let attempt = 0; attempt < 20; attempt++) {
    const pids = (spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).filter((pid) => /^\d+$/.test(pid));
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    spawnSync('sleep', ['0.05']);
  }
  spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
}

/** Namespaces left by an earlier run of this bench that was killed outright (its pid is in the name, and gone). */
function removeStaleNamespaces(): void {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of listed.split('\n')) {
    const match = /^disnix-slowlink-(\d+)\b/.exec(line);
    if (!match || Number(match[1]) === process.pid) continue;
    try {
      process.kill(Number(match[1]), 0);
    } catch {
      removeNamespace(match[0]);
    }
  }
}

/**
 * A realistic closure: a tar of this machine's shared libraries (machine code, symbol tables,
 * strings, as the binaries in a Nix store path are), taken in name order until `bytes`.
 * The tar's file list stays beside it (`<path>.list`) for the record.
 */
/** Leaves out the few giants (libLLVM alone is about 100 MiB), so that the closure is many libraries, not one. */
const MAX_LIBRARY_BYTES = 16 * MIB;

function makeClosure(path: string, bytes: number): { path: string; source: string; files: number; bytes: number } {
  const { source, files } = pickSharedLibraries(bytes);
  const list = `${path}.list`;
  writeFileSync(list, `${files.map((file) => file.slice(1)).join('\n')}\n`);
  const tar = spawnSync('tar', ['-cf', path, '-C', '/', '--files-from', list], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.trim()}`);
  return { path, source, files: files.length, bytes: lstatSync(path).size };
}

/**
 * This machine's shared libraries (absolute paths, each file once) in name order until `bytes`:
 * the directory's own libraries first, then its subdirectories' (plugins, drivers).
 */
export function pickSharedLibraries(bytes: number): { source: string; files: string[]; bytes: number } {
  const source = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].find((dir) => existsSync(dir)) ?? '/usr/lib';
  const chosen: string[] = [];
  // Each file once: tar stores a second name of the same inode as a link (Mesa's drivers are one file under many names).
  const seen = new Set<string>();
  let total = 0;
  const visit = (dir: string) => {
    const entries = readdirSync(dir)
      .sort()
      .map((name) => ({ name, file: join(dir, name), stat: lstatSync(join(dir, name), { throwIfNoEntry: false }) }));
    for (const { name, file, stat } of entries) {
      if (total >= bytes) return;
      if (!stat?.isFile() || stat.size > MAX_LIBRARY_BYTES || !/\.so(\.|$)/.test(name) || seen.has(`${stat.dev}:${stat.ino}`)) continue;
      seen.add(`${stat.dev}:${stat.ino}`);
      chosen.push(file);
      total += stat.size;
    }
    for (const { file, stat } of entries) if (total < bytes && stat?.isDirectory()) visit(file);
  };
  visit(source);
  if (chosen.length === 0) throw new Error(`no shared libraries under ${source}`);
  return { source, files: chosen, bytes: total };
}

async function gzipSize(path: string, level: number): Promise<number> {
  let size = 0;
  const gzip = createGzip({ level });
  gzip.on('data', (chunk: Buffer) => (size += chunk.length));
  const done = once(gzip, 'end');
  for await (const chunk of createReadStream(path, { highWaterMark: MIB })) if (!gzip.write(chunk)) await once(gzip, 'drain');
  gzip.end();
  await done;
  return size;
}

/** Inside the namespace: the stand-in daemon, the gateway and an sshd on its loopback, then the transfers. */
async function measureInside(payload: string, workDir: string): Promise<Measured> {
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const rig = await startTransferRig({ tmpDir: workDir, scp: true, installOpenssh: false, log });
  try {
    if (!rig.scp) throw new Error(`scp: ${rig.scpStatus}`);
    const check = await checker(payload, lstatSync(payload).size);
    const rates = (name: string, pair: DirectionPair) => {
      log(`${name}: up ${pair.upload.mibPerSecond.toFixed(1)} MiB/s, down ${pair.download.mibPerSecond.toFixed(1)} MiB/s`);
      return pair;
    };
    // The namespace's link is its loopback (127.0.0.1), where the client's `auto` does not
    // compress: the shaped link stands for a remote one, so compression is asked for outright.
    const gateway = rates('gateway', await measureGateway(rig.work, rig.busAddress, payload, check, { DISNIX_SOAP_CLIENT_COMPRESS: 'always' }));
    const scp = rates('scp', await measureScp(rig.scp, rig.work, payload, check));
    const scpCompressed = rates('scp -C', await measureScp(rig.scp, rig.work, payload, check, ['-C']));
    const plainHttp = rates('plain HTTP', await measurePlainHttp(rig.work, payload, check));
    return { gateway, plainHttp, scp, scpCompressed };
  } finally {
    await rig.close();
  }
}

/** The figures as rows of `npm run bench`: each direction against scp and against scp -C of the same run. */
export function slowlinkRows(result: SlowlinkResult): BenchRow[] {
  const { closure } = result;
  const size = `${(closure.bytes / MIB).toFixed(0)} MiB closure`;
  const link = `${result.link.rate.replace('mbit', ' Mbit/s')} link`;
  const gzipRatio = closure.bytes / closure.gzip1Bytes;
  const rows: BenchRow[] = [
    ratioRow({
      measure: `slow link: ${size} (${closure.files} shared libraries), gzip -1`,
      value: closure.gzip1Bytes / MIB,
      unit: 'MiB',
      baselineLabel: 'as tar',
      baseline: closure.bytes / MIB,
      note: `compresses ${gzipRatio.toFixed(2)}x`,
    }),
  ];
  for (const direction of ['upload', 'download'] as const) {
    const gateway = result.gateway[direction];
    const ceiling = result.plainHttp[direction];
    for (const [baseline, label, target] of [
      [result.scp[direction], 'scp, as the SSH transport', TARGET_OVER_SCP],
      [result.scpCompressed[direction], 'scp -C', TARGET_OVER_SCP_COMPRESSED],
    ] as const) {
      const ratio = gateway.mibPerSecond / baseline.mibPerSecond;
      const intact = gateway.intact && baseline.intact;
      rows.push(
        ratioRow({
          measure: `slow link: ${direction} ${size} through the gateway (--compress=always), ${link}`,
          value: gateway.mibPerSecond,
          unit: 'MiB/s',
          baselineLabel: label,
          baseline: baseline.mibPerSecond,
          target: `>= ${target}x ${label.split(',')[0]}`,
          met: ratio >= target && intact,
          note: [`link ceiling (plain HTTP) ${ceiling.mibPerSecond.toFixed(1)} MiB/s`, intact ? undefined : 'NOT INTACT'].filter(Boolean).join('; '),
        }),
      );
    }
  }
  return rows;
}

function writeResults(result: SlowlinkResult, name: string): string {
  const file = isAbsolute(name) ? name : join(__dirname, '..', '..', 'bench', 'results', name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** For `npm run bench`: the rows, or why it was not measured (never in --quick). */
export async function runSlowlinkBench(context: { quick: boolean; log(message: string): void }): Promise<BenchRow[] | string> {
  if (context.quick) return 'slowlink: not in --quick (it needs root, a network namespace, an sshd and about 2 minutes)';
  const unavailable = slowlinkUnavailable();
  if (unavailable !== undefined) return `slowlink: ${unavailable}`;
  const result = await measureSlowlink({ installOpenssh: true, log: context.log });
  writeResults(result, 'slowlink.json');
  return slowlinkRows(result);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      inside: { type: 'boolean' },
      payload: { type: 'string' },
      'work-dir': { type: 'string' },
      'closure-mib': { type: 'string' },
      'no-install': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('Usage: node dist-dev/bench/slowlink.js [--closure-mib 96] [--no-install] [--out FILE]   (as root)\n');
    return;
  }
  if (values.inside) {
    if (!values.payload || !values['work-dir']) throw new Error('--inside needs --payload and --work-dir');
    // Stopped from outside by SIGTERM: through process.exit, so that every child's 'exit' hook stops it.
    process.once('SIGTERM', () => process.exit(143));
    // And by itself when the bench that started it is gone (killed outright).
    const parent = process.ppid;
    setInterval(() => process.ppid !== parent && process.exit(1), 1000).unref();
    process.stdout.write(`${JSON.stringify(await measureInside(values.payload, values['work-dir']))}\n`);
    return;
  }
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  const result = await measureSlowlink({
    closureMiB: values['closure-mib'] === undefined ? undefined : Number(values['closure-mib']),
    installOpenssh: !values['no-install'],
    log: (m) => process.stderr.write(`${m}\n`),
  });
  for (const row of slowlinkRows(result))
    process.stdout.write(
      `${row.measure}: ${row.value.toFixed(1)} ${row.unit} vs ${row.baseline.toFixed(1)} ${row.unit} (${row.baselineLabel}), ${row.ratio.toFixed(2)}${row.target ? `, target ${row.target}: ${row.met ? 'yes' : 'NO'}` : ''}\n`,
    );
  process.stderr.write(`results written to ${writeResults(result, values.out ?? 'slowlink.json')}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`slowlink bench: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
