import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type BenchContext, type BenchRow, ratioRow } from './bench-types';
import { median } from './load';
import { ensureOpenssh, startLoopbackSshd } from './loopback-sshd';

/**
 * The coordinator starts one client process per step and target, so a whole process is what
 * counts: `disnix-soap-client --lock` then `--unlock` against the gateway, next to two
 * `ssh <loopback> true` (the floor of the default SSH transport, which also runs one command per
 * step), and next to two bare `node -e 0` (the floor of any Node.js client). `--version` next to
 * one `node -e 0` is the client's own start-up without the network.
 */
const VERSION_TARGET = 1.25;
const SSH_TARGET = 0.25;

export async function runStartupBench(context: BenchContext, projectRoot: string): Promise<BenchRow[]> {
  const rounds = context.quick ? 1 : 15;
  const client = [process.execPath, join(projectRoot, 'dist', 'soap-client', 'main.js'), '--target', context.url, '--profile', 'bench-startup'];
  const env = { ...process.env, DISNIX_SOAP_CLIENT_USERNAME: context.username, DISNIX_SOAP_CLIENT_PASSWORD: context.password };
  const lockUnlock = async () => (await timed([...client, '--lock'], env)) + (await timed([...client, '--unlock'], env));
  const nodeOnce = () => timed([process.execPath, '-e', '0'], env);
  const version = () => timed([...client.slice(0, 2), '--version'], env);

  const ssh = ensureOpenssh(!context.quick, context.log) ? await startLoopbackSshd(join(context.tmpDir, 'sshd')) : undefined;
  if (!ssh) context.log('client start-up: no sshd here (not installed, and --quick installs nothing): the ssh baseline is skipped');
  context.log(`client start-up: ${rounds} rounds of --lock + --unlock${ssh ? ', 2 x ssh true' : ''}, --version and 2 x node -e 0`);
  const samples = { client: [] as number[], ssh: [] as number[], node: [] as number[], version: [] as number[], nodeOnce: [] as number[] };
  try {
    if (!context.quick) await lockUnlock(); // warm the page cache, as a coordinator's second step finds it
    for (let round = 0; round < rounds && Date.now() < context.deadline; round++) {
      samples.client.push(await lockUnlock());
      if (ssh) samples.ssh.push((await timed(ssh.command, env)) + (await timed(ssh.command, env)));
      // Two single node -e 0: one is the --version baseline, their sum the pair's.
      const [first, second] = [await nodeOnce(), await nodeOnce()];
      samples.node.push(first + second);
      samples.nodeOnce.push(first, second);
      samples.version.push(await version());
    }
  } finally {
    ssh?.stop();
  }
  const measure = 'client --lock + --unlock, 2 processes';
  const clientMs = median(samples.client);
  const rows = [
    ratioRow({
      measure,
      value: clientMs,
      unit: 'ms',
      baselineLabel: '2 x node -e 0',
      baseline: median(samples.node),
      note: `median of ${samples.client.length}`,
    }),
    ratioRow({
      measure: 'client --version, 1 process',
      value: median(samples.version),
      unit: 'ms',
      baselineLabel: 'node -e 0',
      baseline: median(samples.nodeOnce),
      target: `ratio <= ${VERSION_TARGET}`,
      met: median(samples.version) / median(samples.nodeOnce) <= VERSION_TARGET,
      note: `median of ${samples.version.length}`,
    }),
  ];
  if (ssh) {
    rows.unshift(
      ratioRow({
        measure,
        value: clientMs,
        unit: 'ms',
        baselineLabel: '2 x ssh 127.0.0.1 true',
        baseline: median(samples.ssh),
        target: `ratio <= ${SSH_TARGET}`,
        met: clientMs / median(samples.ssh) <= SSH_TARGET,
        note: `median of ${samples.client.length}`,
      }),
    );
  }
  return rows;
}

/** Wall time of one whole process, in ms; a failure is an error (the figure would be meaningless). */
function timed(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${argv.slice(0, 2).join(' ')} ... exited with ${code}: ${stderr.trim()}`));
    });
  });
}
