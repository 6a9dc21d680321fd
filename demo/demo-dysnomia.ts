import { hostname } from 'node:os';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DemoEnv, makeDaemonTempFile } from './demo-layout';
import type { JobContext } from './demo-jobs';
import { JobError } from './demo-job-error';
import { requireStorePath, requireValidPath } from './demo-store';
import { assertEntryName } from './demo-tree';
import { deleteState, restoreSnapshot, takeSnapshot } from './demo-snapshots';

/**
 * Dysnomia, as far as the demo needs it. Known module types are the containers that
 * capture_config reports. Arguments are `key=value`; `delay=<ms>` makes the job take that long
 * and `fail=<message>` makes it fail with that message, for every operation and type.
 * Activation marks `active/<container>/<component>`; component state is
 * `state/<container>/<component>` (see demo-snapshots).
 */
export type DysnomiaOperation = 'activate' | 'deactivate' | 'delete_state' | 'snapshot' | 'restore';

/** Container name -> its properties, as capture_config reports them. */
export const CONTAINERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  echo: {},
  fileset: {},
  process: {},
  'supervisord-program': { supervisordTargetDir: '/etc/supervisor/conf.d' },
  wrapper: {},
};

export async function runDysnomia(
  env: DemoEnv,
  job: JobContext,
  operation: DysnomiaOperation,
  path: string,
  containerArg: string,
  type: string,
  args: readonly string[],
): Promise<void> {
  if (!Object.hasOwn(CONTAINERS, type)) throw new JobError(`Module: ${type} cannot be found!`);
  const settings = parseArguments(args);
  const container = containerArg === '' ? type : containerArg;
  // Both name directories below state/ and active/: they must not lead out of them.
  requireStorePath(env.layout, path);
  try {
    assertEntryName(container);
  } catch {
    throw new JobError(`error: invalid container name '${container}'`);
  }
  // The store name without its hash, as Dysnomia names a component.
  const component = basename(path).slice(33);
  if (type === 'echo') {
    // Like Dysnomia's echo module: it only tells what it was asked, whatever the path.
    job.log(`Echo module: ${ECHO_VERBS[operation]} service: ${path}`);
    job.log('Environment variables:');
    for (const arg of args) job.log(arg);
  } else {
    await requireValidPath(env.layout, path);
  }
  const delay = Number(settings.get('delay') ?? 0);
  if (Number.isFinite(delay) && delay > 0) await sleep(delay);
  const failure = settings.get('fail');
  if (failure !== undefined) throw new JobError(failure);

  const marker = join(env.layout.activeDir, container, component);
  switch (operation) {
    // Idempotent, so concurrent (de)activations of one component need not wait for each other.
    case 'activate':
      await mkdir(join(env.layout.componentStateDir, container, component), { recursive: true });
      await mkdir(join(env.layout.activeDir, container), { recursive: true });
      await writeFile(marker, `${path}\n`);
      return;
    case 'deactivate':
      await rm(marker, { force: true });
      return;
  }
  await env.mutex.run(`component:${container}/${component}`, async () => {
    switch (operation) {
      case 'delete_state':
        return deleteState(env, job, container, component);
      case 'snapshot':
        return env.mutex.run('snapshots', () => takeSnapshot(env, job, container, component));
      case 'restore':
        return restoreSnapshot(env, job, container, component);
    }
  });
}

const ECHO_VERBS: Readonly<Record<DysnomiaOperation, string>> = {
  activate: 'Activate',
  deactivate: 'Deactivate',
  delete_state: 'Collect garbage',
  snapshot: 'Snapshot',
  restore: 'Restore',
};

function parseArguments(args: readonly string[]): Map<string, string> {
  const settings = new Map<string, string>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq > 0) settings.set(arg.slice(0, eq), arg.slice(eq + 1));
  }
  return settings;
}

/**
 * capture_config: writes the Nix expression of this machine's properties and containers into
 * a `disnix.XXXXXX` file of the daemon's TMPDIR (and leaves it there, as the real one does), laid out as the real one (dysnomia-containers) lays it out, without a final newline.
 */
export async function captureConfig(env: DemoEnv, _pid: number): Promise<string> {
  const attrs = (values: Readonly<Record<string, string>>, indent: string) =>
    Object.entries(values)
      .map(([key, value]) => `${indent}${JSON.stringify(key)} = ${JSON.stringify(value)};\n`)
      .join('');
  const containers = Object.entries(CONTAINERS)
    .map(([name, properties]) => `    ${name} = {\n${attrs(properties, '      ')}    };\n`)
    .join('');
  const system = nixSystem();
  const properties = attrs({ hostname: hostname(), system }, '    ');
  const text = `{\n  properties = {\n${properties}  };\n  containers = {\n${containers}  };\n${attrs({ system }, '  ')}}`;
  const file = await makeDaemonTempFile(env);
  await writeFile(file, text);
  return file;
}

function nixSystem(): string {
  const arch = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686' }[process.arch as string] ?? process.arch;
  return `${arch}-${process.platform === 'darwin' ? 'darwin' : 'linux'}`;
}
