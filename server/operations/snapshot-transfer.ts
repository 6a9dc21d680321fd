import { mkdir, realpath, rename, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { ReceivedFile } from '../../protocol/codec/message-reader';
import type { Segment } from '../../protocol/codec/message-writer';
import { returnElement, returnFile } from '../../protocol/codec/soap-envelope';
import type { ArgumentsOf, TransferOperationName } from '../../protocol/operations';
import { SnapshotTreeError, isInside, listSnapshotFiles, type SnapshotFile } from '../../protocol/snapshot-files';
import { fileNameProblem, pathSetProblem, relativePathProblem } from '../../protocol/snapshot-paths';
import { badRequest } from './operation-arguments';
import { GatewayError } from '../errors/error-catalogue';
import { type OperationContext, runJob } from './relay-operation';

/**
 * Snapshots both ways. Upload: every file lands at its checked relative path under a directory
 * named after the snapshot (import_snapshots moves that directory into the store, and the
 * snapshot takes its name). Download: only snapshots inside the target's snapshot store, as
 * resolve_snapshots places it, are served; see resolveSnapshotDir.
 */
export async function importLocalSnapshots(args: ArgumentsOf<'importLocalSnapshots', ReceivedFile>, context: OperationContext): Promise<Segment[]> {
  const { container, component } = args;
  const { snapshot, paths } = uploadedPaths(args, context.form);
  const nameProblem = fileNameProblem(snapshot);
  if (nameProblem) throw badRequest(`importLocalSnapshots: the snapshot name ${nameProblem}: ${JSON.stringify(snapshot.slice(0, 80))}`);
  const files = args.content;
  if (files.length !== paths.length) {
    throw badRequest(`importLocalSnapshots: ${files.length} file contents but ${paths.length} paths; each content needs its path`);
  }
  for (const path of paths) {
    const problem = relativePathProblem(path);
    if (problem) throw badRequest(`importLocalSnapshots: the path ${JSON.stringify(path.slice(0, 120))} ${problem}`);
  }
  const setProblem = pathSetProblem(paths);
  if (setProblem) throw badRequest(`importLocalSnapshots: ${setProblem}`);

  // Only this call writes in its upload area, and only directories and files: no link can be
  // there to lead a file elsewhere.
  const tree = join(context.area.dir, 'tree', snapshot);
  await mkdir(tree, { recursive: true });
  for (const [index, path] of paths.entries()) {
    const target = join(tree, ...path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await rename(files[index].path, target);
  }
  await runJob(context, 'importLocalSnapshots', 'importSnapshots', [container, component, [tree]], false);
  return [];
}

export async function exportRemoteSnapshotPaths(args: ArgumentsOf<'exportRemoteSnapshotPaths'>, context: OperationContext): Promise<Segment[]> {
  const files = await snapshotFiles('exportRemoteSnapshotPaths', args.snapshot, context);
  // The Java client strips the snapshot it asked for off the front of each path.
  const prefix = context.form === 'positional' ? `${withoutTrailingSlashes(args.snapshot)}/` : '';
  return files.map((file) => returnElement(prefix + file.relative));
}

/**
 * The snapshot's name and its files' paths relative to it. The Java client sends the snapshot
 * directory's path on the coordinator and each file's full path there; the original service
 * took the directory's last segment as the name and cut that path off the front of each file's.
 */
function uploadedPaths(
  args: ArgumentsOf<'importLocalSnapshots', ReceivedFile>,
  form: OperationContext['form'],
): { snapshot: string; paths: readonly string[] } {
  const { snapshot, path: paths } = args;
  if (form !== 'positional') return { snapshot, paths };
  const dir = withoutTrailingSlashes(snapshot);
  const outside = paths.find((path) => !path.startsWith(`${dir}/`));
  if (outside !== undefined)
    throw badRequest(`importLocalSnapshots: the file ${JSON.stringify(outside.slice(0, 120))} is not under the snapshot ${JSON.stringify(dir.slice(0, 120))}`);
  return { snapshot: posix.basename(dir), paths: paths.map((path) => path.slice(dir.length + 1)) };
}

export async function exportRemoteSnapshots(args: ArgumentsOf<'exportRemoteSnapshots'>, context: OperationContext): Promise<Segment[]> {
  const files = await snapshotFiles('exportRemoteSnapshots', args.snapshot, context);
  return files.flatMap((file) => returnFile({ path: file.path, size: file.size, location: file.relative }));
}

async function snapshotFiles(operation: TransferOperationName, snapshot: string, context: OperationContext): Promise<SnapshotFile[]> {
  const dir = await resolveSnapshotDir(operation, snapshot, context);
  try {
    return await listSnapshotFiles(dir);
  } catch (error) {
    if (error instanceof SnapshotTreeError) throw badRequest(`${operation}: ${error.message}`);
    throw error;
  }
}

/** A name resolve_snapshots places directly in the snapshot store, to learn where that is. */
const PROBE = 'disnix-webservice-probe';

/**
 * The real path of a snapshot directory, given relative to the snapshot store (as the query
 * operations answer) or absolute (as resolveSnapshots answers, and coordinators pass on). Either
 * way it must lie inside the store that resolve_snapshots reports, also after following links.
 */
async function resolveSnapshotDir(operation: TransferOperationName, given: string, context: OperationContext): Promise<string> {
  const resolve = async (path: string) => (await runJob(context, operation, 'resolveSnapshots', [[path]], true)).results[0] ?? '';
  const refuse = (why: string) => badRequest(`${operation}: ${JSON.stringify(given.slice(0, 200))} ${why}`);
  let store: string;
  let dir: string;
  if (given.startsWith('/')) {
    if (given.split('/').some((segment) => segment === '..' || segment === '.')) throw refuse('has . or .. segments');
    const probe = await resolve(PROBE);
    if (!probe.endsWith(`/${PROBE}`)) throw unexpected(probe);
    store = probe.slice(0, -PROBE.length - 1);
    dir = withoutTrailingSlashes(posix.normalize(given));
    if (!dir.startsWith(`${store}/`)) throw refuse('is not in the snapshot store of the target; only snapshots are served');
  } else {
    const relative = withoutTrailingSlashes(given);
    const problem = relativePathProblem(relative);
    if (problem) throw refuse(problem);
    const resolved = await resolve(relative);
    if (!resolved.endsWith(`/${relative}`)) throw unexpected(resolved);
    store = resolved.slice(0, -relative.length - 1);
    dir = resolved;
  }
  let realStore: string;
  let realDir: string;
  try {
    [realStore, realDir] = await Promise.all([realpath(store), realpath(dir)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw refuse('is not a snapshot of the target');
    throw error;
  }
  if (realDir === realStore || !isInside(realStore, realDir)) throw refuse('leads outside the snapshot store of the target; only snapshots are served');
  if (!(await stat(realDir)).isDirectory()) throw refuse('is not a snapshot directory');
  return realDir;
}

function unexpected(answer: string): GatewayError {
  return new GatewayError('GW_ERR_RESULT', `resolve_snapshots answered ${JSON.stringify(answer)}, which does not tell where the snapshot store is`);
}

/** A directory path as given, `snap/` or `snap`, in one spelling. */
function withoutTrailingSlashes(path: string): string {
  return path.replace(/\/+$/, '');
}
