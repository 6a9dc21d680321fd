import { cp, lstat, mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import type { DemoEnv } from './demo-layout';
import type { JobContext } from './demo-jobs';
import { JobError } from './demo-job-error';
import { assertEntryName, type FsNode, hashTree, readTree, writeTree } from './demo-tree';

/**
 * The snapshot store: `snapshots/<container>/<component>/<name>` directories, named by the
 * content hash of the state they hold (or, when imported, by the imported directory's name).
 * Queries answer `container/component/name` paths. Order is modification time: every new,
 * re-taken or imported snapshot is stamped newer than the others of its component.
 * Component state lives in `state/<container>/<component>`.
 */
export interface Snapshot {
  readonly relative: string;
  readonly path: string;
  readonly mtimeMs: number;
}

const stateDir = (env: DemoEnv, container: string, component: string) => join(env.layout.componentStateDir, container, component);
const componentDir = (env: DemoEnv, container: string, component: string) => join(env.layout.snapshotsDir, container, component);

/** The tree as `tar -v` lists it under `state/`, which is what Dysnomia's modules log. */
function listing(node: FsNode, prefix = 'state'): string[] {
  if (node.type !== 'directory') return [prefix];
  return [`${prefix}/`, ...Object.entries(node.entries).flatMap(([name, child]) => listing(child, `${prefix}/${name}`))];
}

/** A component given as a store path means its name, as Dysnomia takes it. */
function componentName(component: string): string {
  return component.includes('/') ? basename(component).slice(33) : component;
}

function isEntryName(name: string): boolean {
  try {
    assertEntryName(name);
    return true;
  } catch {
    return false;
  }
}

/** `only` itself when given (a name that cannot leave `dir`, else nothing), or all of them. */
async function subdirectories(dir: string, only: string): Promise<string[]> {
  if (only !== '') return isEntryName(only) ? [only] : [];
  const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return names
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

/** Snapshots of every matching component, oldest first within each component. */
async function snapshotsByComponent(env: DemoEnv, container: string, component: string): Promise<Snapshot[][]> {
  const groups: Snapshot[][] = [];
  for (const c of await subdirectories(env.layout.snapshotsDir, container)) {
    for (const k of await subdirectories(join(env.layout.snapshotsDir, c), component)) {
      const group: Snapshot[] = [];
      for (const name of await subdirectories(componentDir(env, c, k), '').catch(() => [])) {
        const path = join(componentDir(env, c, k), name);
        const info = await stat(path).catch(() => undefined);
        if (info) group.push({ relative: `${c}/${k}/${name}`, path, mtimeMs: Math.round(info.mtimeMs) });
      }
      group.sort((a, b) => a.mtimeMs - b.mtimeMs || a.relative.localeCompare(b.relative));
      if (group.length > 0) groups.push(group);
    }
  }
  return groups;
}

/** Stamps a snapshot as the newest of its component. */
async function markNewest(env: DemoEnv, container: string, component: string, path: string): Promise<void> {
  const [group = []] = await snapshotsByComponent(env, container, component);
  const newest = Math.max(0, ...group.filter((s) => s.path !== path).map((s) => s.mtimeMs));
  const when = Math.max(Date.now(), newest + 1) / 1000;
  await utimes(path, when, when);
}

export async function takeSnapshot(env: DemoEnv, job: JobContext, container: string, component: string): Promise<void> {
  const state = stateDir(env, container, component);
  if (!(await lstat(state).catch(() => undefined))) {
    job.log(`no state of ${component} in ${container} to snapshot`);
    return;
  }
  const tree = await readTree(state);
  for (const line of listing(tree)) job.log(line);
  const target = join(componentDir(env, container, component), hashTree(tree));
  if (await lstat(target).catch(() => undefined)) {
    job.log(`snapshot ${container}/${component}/${basename(target)} already exists`);
  } else {
    await mkdir(componentDir(env, container, component), { recursive: true });
    const staging = join(componentDir(env, container, component), `.staging-${job.pid}`);
    await rm(staging, { recursive: true, force: true });
    await writeTree(staging, tree);
    await rename(staging, target);
    job.log(`snapshot ${container}/${component}/${basename(target)} taken`);
  }
  await markNewest(env, container, component, target);
}

export async function restoreSnapshot(env: DemoEnv, job: JobContext, container: string, component: string): Promise<void> {
  const [group = []] = await snapshotsByComponent(env, container, component);
  const latest = group[group.length - 1];
  if (latest === undefined) {
    job.log(`no snapshot of ${component} in ${container} to restore`);
    return;
  }
  const state = stateDir(env, container, component);
  const tree = await readTree(latest.path);
  for (const line of listing(tree)) job.log(line);
  await rm(state, { recursive: true, force: true });
  await mkdir(join(state, '..'), { recursive: true });
  await writeTree(state, tree, true);
  job.log(`state of ${component} in ${container} restored from ${latest.relative}`);
}

export async function deleteState(env: DemoEnv, job: JobContext, container: string, component: string): Promise<void> {
  await rm(stateDir(env, container, component), { recursive: true, force: true });
  job.log(`state of ${component} in ${container} deleted`);
}

export async function querySnapshots(env: DemoEnv, container: string, component: string, latest: boolean): Promise<string[]> {
  const groups = await snapshotsByComponent(env, container, componentName(component));
  return groups.flatMap((group) => (latest ? group.slice(-1) : group).map((snapshot) => snapshot.relative));
}

/**
 * A relative snapshot path (`container/component/name`) in the snapshot store. The real daemon
 * resolves any string; this one refuses those that would leave the snapshot store.
 */
function snapshotPath(env: DemoEnv, relative: string): string {
  try {
    if (isAbsolute(relative)) throw new Error();
    relative.split('/').forEach(assertEntryName);
  } catch {
    throw new JobError(`error: invalid snapshot path '${relative}'`);
  }
  return join(env.layout.snapshotsDir, relative);
}

export async function missingSnapshots(env: DemoEnv, relatives: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const relative of relatives) {
    if (!(await lstat(snapshotPath(env, relative)).catch(() => undefined))) missing.push(relative);
  }
  return missing;
}

export function resolveSnapshots(env: DemoEnv, relatives: readonly string[]): string[] {
  return relatives.map((relative) => snapshotPath(env, relative));
}

export async function importSnapshots(env: DemoEnv, container: string, component: string, dirs: readonly string[]): Promise<void> {
  if (container === '') throw new JobError('ERROR: No container specified!');
  if (component === '') throw new JobError('ERROR: No component specified!');
  if (!isEntryName(container) || !isEntryName(component)) {
    throw new JobError(`error: invalid container '${container}' or component '${component}'`);
  }
  const target = componentDir(env, container, component);
  await mkdir(target, { recursive: true });
  for (const dir of dirs) {
    if (!isAbsolute(dir) || !(await lstat(dir).catch(() => undefined))?.isDirectory()) {
      throw new JobError(`mv: cannot stat '${dir}': No such file or directory`);
    }
    const destination = join(target, basename(dir));
    if (await lstat(destination).catch(() => undefined)) {
      throw new JobError(`mv: cannot move '${dir}' to '${destination}': Directory not empty`);
    }
    await rename(dir, destination).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EXDEV') throw error;
      await cp(dir, destination, { recursive: true, verbatimSymlinks: true });
      await rm(dir, { recursive: true, force: true });
    });
    await markNewest(env, container, component, destination);
  }
}

export async function cleanSnapshots(env: DemoEnv, job: JobContext, keep: number, container: string, component: string): Promise<void> {
  for (const group of await snapshotsByComponent(env, container, componentName(component))) {
    for (const snapshot of group.slice(0, Math.max(0, group.length - Math.max(0, keep)))) {
      await rm(snapshot.path, { recursive: true, force: true });
      job.log(`Removing old snapshot: ${snapshot.relative}`);
    }
  }
}
