import { type ChildProcess, spawn } from 'node:child_process';
import * as dbus from 'dbus-next';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { copyFile, lstat, mkdir, rm } from 'node:fs/promises';
import { basename, delimiter, dirname, join, relative } from 'node:path';
import { demoLayout } from '../demo/demo-layout';
import { makeStorePath, registerPath } from '../demo/demo-store';
import { DEFAULT_SERVICE_PATH } from '../protocol/operations';
import { DISNIX_BUS_NAME } from '../server/dbus/disnix-interface';
import { type BenchContext, type BenchRow, ratioRow } from './bench-types';
import { connectDirect } from './direct-dbus';
import { freeLoopbackPort } from './free-port';
import { median } from './load';
import { type PacedProxy, startPacedProxy } from './paced-proxy';
import { pickSharedLibraries } from './slowlink';
import { httpReady, runMeasured } from './transfer-processes';

/**
 * Import while receiving (issue 16): `disnix-soap-client --import --localfile FILE` through the
 * gateway to the demo disnix-service, against that daemon's own import of the same file already
 * on disk (its `import` job called straight over D-Bus, from the call to its `finish` signal).
 * The gateway feeds the upload into a named pipe the daemon's import reads as it arrives
 * (server/operations/streamed-import.ts), so the upload and the import overlap: the target is
 * upload+import <= 1.3x the import alone. For reference, the old sequential way (upload to a
 * file, then import it): the same client call to a second gateway that cannot make named pipes,
 * as it runs with a PATH without mkfifo and so falls back.
 *
 * The closure is realistic: a demo store path of this machine's shared libraries (as the
 * slow-link bench's payload), exported by the demo daemon's own `export` job so that it is in the
 * demo's closure format. Each import really imports: garbage collection (nothing roots the path)
 * removes the path before each one, and the path is checked to be there after it. The three ways
 * take turns within each round, in a rotating order, and each figure is the median of the rounds.
 *
 * Over loopback the upload is faster than the import, and on 2 cores their CPU bounds both ways
 * alike; so the streamed and the sequential way are also measured through a proxy that paces the
 * upload to a 1 Gbit/s link's rate (bench/paced-proxy.ts), where the upload takes about as long
 * as the import and reading it while it arrives should hide most of the import.
 */
const MIB = 1024 ** 2;
const CLOSURE_MIB = 256;
const QUICK_CLOSURE_MIB = 8;
const ROUNDS = 5;
const TARGET = 1.3;
const FALLBACK_WARNING = 'cannot import a closure while it arrives';

/**
 * A 1 Gbit/s link's payload rate, for the same two ways through a paced proxy: there the upload
 * takes about as long as the import, which is where reading it while it arrives pays most.
 */
const LINK_MIB_PER_SECOND = 112;

type Way = 'direct' | 'streamed' | 'sequential' | 'streamedLink' | 'sequentialLink';
const WAYS: readonly Way[] = ['direct', 'streamed', 'sequential', 'streamedLink', 'sequentialLink'];

export async function runImportBench(context: BenchContext, projectRoot: string): Promise<BenchRow[]> {
  const rounds = context.quick ? 1 : ROUNDS;
  const layout = demoLayout(context.demoStateDir);
  const work = join(context.tmpDir, 'import-bench');
  await mkdir(work, { recursive: true });
  const direct = await connectDirect(context.busAddress);
  const gateways: Gateway[] = [];
  const proxies: PacedProxy[] = [];
  try {
    context.log('import: making a store path of shared libraries and exporting it with the demo daemon');
    const libraries = await addLibrariesPath(layout, context.quick ? QUICK_CLOSURE_MIB : CLOSURE_MIB);
    const [closureFile] = await direct.run('export', 'as', [[libraries.path]]);
    const closureBytes = (await lstat(closureFile)).size;
    const gc = () => direct.run('collect_garbage', 'b', [false]);
    await gc();
    if (existsSync(libraries.path)) throw new Error(`import: garbage collection left ${libraries.path}`);

    const credentials = { username: 'bench-import', password: `bench-${process.pid}-${randomBytes(6).toString('hex')}` };
    const withoutMkfifo = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '' && !existsSync(join(dir, 'mkfifo')));
    const start = (name: string, path: string) => startGateway(projectRoot, context, work, name, credentials, path);
    gateways.push(await start('streamed', process.env.PATH ?? ''));
    gateways.push(await start('sequential', withoutMkfifo.length > 0 ? withoutMkfifo.join(delimiter) : '/nonexistent'));
    const [streamedGateway, sequentialGateway] = gateways;
    const linked = async (gateway: Gateway) => {
      const proxy = await startPacedProxy(Number(new URL(gateway.url).port), LINK_MIB_PER_SECOND * MIB);
      proxies.push(proxy);
      const url = new URL(gateway.url);
      url.port = String(proxy.port);
      return url.toString();
    };
    const streamedLinkUrl = await linked(streamedGateway);
    const sequentialLinkUrl = await linked(sequentialGateway);

    const clientEnv = {
      PATH: process.env.PATH,
      TMPDIR: work,
      DISNIX_SOAP_CLIENT_USERNAME: credentials.username,
      DISNIX_SOAP_CLIENT_PASSWORD: credentials.password,
    };
    const client = join(projectRoot, 'dist', 'soap-client', 'main.js');
    const upload = async (url: string) =>
      (await runMeasured(process.execPath, [client, '--target', url, '--import', '--localfile', closureFile], clientEnv, work)).seconds;
    const ways: Record<Way, () => Promise<number>> = {
      direct: async () => {
        const started = process.hrtime.bigint();
        await direct.run('import', 's', [closureFile]);
        return Number(process.hrtime.bigint() - started) / 1e9;
      },
      streamed: () => upload(streamedGateway.url),
      sequential: () => upload(sequentialGateway.url),
      streamedLink: () => upload(streamedLinkUrl),
      sequentialLink: () => upload(sequentialLinkUrl),
    };
    const order = WAYS;
    const perWay = (): Record<Way, number[]> => ({ direct: [], streamed: [], sequential: [], streamedLink: [], sequentialLink: [] });
    const seconds = perWay();
    // Where the time goes: the CPU the daemon and the way's gateway used during each import.
    const daemonPid = await busNameOwnerPid(context.busAddress);
    const gatewayOf: Record<Way, Gateway | undefined> = {
      direct: undefined,
      streamed: streamedGateway,
      sequential: sequentialGateway,
      streamedLink: streamedGateway,
      sequentialLink: sequentialGateway,
    };
    const daemonCpu = perWay();
    const gatewayCpu = perWay();
    context.log(`import: ${(closureBytes / MIB).toFixed(0)} MiB closure of ${libraries.files} libraries; ${rounds} round(s) of ${order.join(', ')}`);
    for (let round = 0; round < rounds && (round === 0 || Date.now() < context.deadline); round++) {
      // Each way first in turn, so that none always follows the same one.
      const turn = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
      for (const way of turn) {
        await gc();
        if (existsSync(libraries.path)) throw new Error(`import: garbage collection left ${libraries.path}`);
        const gatewayPid = gatewayOf[way]?.pid;
        const before = { daemon: cpuSeconds(daemonPid), gateway: cpuSeconds(gatewayPid) };
        const taken = await ways[way]();
        if (!existsSync(libraries.path)) throw new Error(`import: the ${way} import did not make ${libraries.path} valid`);
        seconds[way].push(taken);
        daemonCpu[way].push(cpuSeconds(daemonPid) - before.daemon);
        gatewayCpu[way].push(cpuSeconds(gatewayPid) - before.gateway);
      }
      context.log(`import: round ${round + 1}: ${order.map((way) => `${way} ${seconds[way][round].toFixed(2)} s`).join(', ')}`);
    }
    await gc();
    await rm(closureFile, { force: true });

    // The fallback must have been taken by the one gateway only, or the rows compare the wrong things.
    if (!sequentialGateway.log().includes(FALLBACK_WARNING)) throw new Error('import: the gateway without mkfifo did not fall back to a file');
    if (streamedGateway.log().includes(FALLBACK_WARNING)) throw new Error('import: the gateway with mkfifo fell back to a file');

    const size = `${(closureBytes / MIB).toFixed(0)} MiB closure (${libraries.files} shared libraries)`;
    const med = Object.fromEntries(WAYS.map((way) => [way, median(seconds[way])])) as Record<Way, number>;
    const daemonOwn = "the daemon's own import of the file, direct D-Bus";
    const cpu = (way: Way) =>
      `CPU: daemon ${median(daemonCpu[way]).toFixed(2)} s${way === 'direct' ? '' : `, gateway ${median(gatewayCpu[way]).toFixed(2)} s`}`;
    const note = `median of ${seconds.direct.length}; client process included; ${cpu('streamed')} (own import: ${cpu('direct').slice(5)})`;
    return [
      ratioRow({
        measure: `upload+import of a ${size}, client --import --localfile, streamed into the import`,
        value: med.streamed,
        unit: 's',
        baselineLabel: daemonOwn,
        baseline: med.direct,
        target: `ratio <= ${TARGET}`,
        met: med.streamed / med.direct <= TARGET,
        note,
      }),
      ratioRow({
        measure: `upload+import of a ${size}, client --import --localfile, sequential (gateway without mkfifo)`,
        value: med.sequential,
        unit: 's',
        baselineLabel: daemonOwn,
        baseline: med.direct,
        note: `the way before import while receiving: upload to a file, then import it; ${cpu('sequential')}`,
      }),
      ratioRow({
        measure: `upload+import of a ${size}, streamed / sequential`,
        value: med.streamed,
        unit: 's',
        baselineLabel: 'upload to a file, then import',
        baseline: med.sequential,
        note: 'what overlapping the upload and the import bought',
      }),
      ratioRow({
        measure: `upload+import of a ${size} over a 1 Gbit/s link (a proxy paced at ${LINK_MIB_PER_SECOND} MiB/s), streamed / sequential`,
        value: med.streamedLink,
        unit: 's',
        baselineLabel: 'the same link: upload to a file, then import',
        baseline: med.sequentialLink,
        note: `what overlapping bought where the upload alone takes ${(closureBytes / MIB / LINK_MIB_PER_SECOND).toFixed(2)} s; ${cpu('streamedLink')}`,
      }),
    ];
  } finally {
    direct.close();
    for (const proxy of proxies) await proxy.close();
    for (const gateway of gateways) await gateway.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A demo store path `<hash>-shared-libraries` holding about `mib` MiB of this machine's shared
 * libraries under lib/, added as the demo store adds paths, the files copied into its staging
 * directory rather than read into memory.
 */
async function addLibrariesPath(layout: ReturnType<typeof demoLayout>, mib: number): Promise<{ path: string; files: number }> {
  const { source, files } = pickSharedLibraries(mib * MIB);
  const fingerprint = createHash('sha256');
  for (const file of files) fingerprint.update(`${file}:${(await lstat(file)).size}\n`);
  const name = basename(makeStorePath(layout, 'shared-libraries', `bench:${fingerprint.digest('hex')}`));
  const copyLibraries = async (staging: string) => {
    for (const file of files) {
      const target = join(staging, 'lib', relative(source, file));
      await mkdir(dirname(target), { recursive: true });
      await copyFile(file, target);
    }
  };
  return { path: await registerPath(layout, name, copyLibraries, []), files: files.length };
}

/** User and system CPU seconds a process has used so far (0 without a pid). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime, fields 14 and 15 of stat(5), in clock ticks of 1/100 s on Linux.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The pid of the process that owns disnix-service's bus name (the demo daemon). */
async function busNameOwnerPid(busAddress: string): Promise<number> {
  const bus = dbus.sessionBus({ busAddress });
  bus.on('error', () => undefined);
  try {
    const reply = await bus.call(
      new dbus.Message({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'GetConnectionUnixProcessID',
        signature: 's',
        body: [DISNIX_BUS_NAME],
      }),
    );
    return reply?.body[0] as number;
  } finally {
    bus.disconnect();
  }
}

interface Gateway {
  readonly url: string;
  readonly pid: number | undefined;
  /** What it logged so far. */
  log(): string;
  stop(): Promise<void>;
}

/** A gateway of this section's own (production build, logging as in production, into a file), with the PATH given. */
async function startGateway(
  projectRoot: string,
  context: BenchContext,
  work: string,
  name: string,
  credentials: { username: string; password: string },
  path: string,
): Promise<Gateway> {
  const port = await freeLoopbackPort();
  const uploads = join(work, `uploads-${name}`);
  await mkdir(uploads, { recursive: true });
  const logFile = join(work, `gateway-${name}.log`);
  const logFd = openSync(logFile, 'w');
  const args = [
    // Node flags for profiling, as the gateway section takes them (e.g. --cpu-prof --cpu-prof-dir=DIR).
    ...(process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(/\s+/).filter((word) => word !== ''),
    join(projectRoot, 'dist', 'server', 'main.js'),
    ...['--host', '127.0.0.1', '--port', String(port), '--bus-address', context.busAddress, '--upload-dir', uploads],
    ...['--log-format', 'json', '--daemon-tmpdir', demoLayout(context.demoStateDir).tmpDir],
  ];
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DISNIX_WEBSERVICE_')));
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', logFd],
    env: { ...env, PATH: path, DISNIX_WEBSERVICE_USERNAME: credentials.username, DISNIX_WEBSERVICE_PASSWORD: credentials.password },
  });
  closeSync(logFd);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const base = `http://127.0.0.1:${port}`;
  const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  try {
    await Promise.race([
      httpReady(`${base}/readyz`, auth)(child),
      exited.then(() => Promise.reject(new Error(`import: the ${name} gateway exited: ${readFileSync(logFile, 'utf8').trim()}`))),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `${base}${DEFAULT_SERVICE_PATH}`, pid: child.pid, log: () => readFileSync(logFile, 'utf8'), stop };
}
