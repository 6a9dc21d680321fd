import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { exportClosure } from '../demo/demo-closure';
import { createEnv, demoLayout, ensureLayout } from '../demo/demo-layout';
import { hashTree, readTree } from '../demo/demo-tree';
import type { OperationName } from '../protocol/operations';
import { type Axis2Arg, dataHandler } from './axis2-request';
import type { JavaReturn } from './axis2-response';
import { addDerivation, addProfileManifest, addStorePath, outputOf, writeComponentState } from './demo-store';

/**
 * The Java client's session that tests/fixtures/axis2 records: every operation once, in an
 * order where each step finds what earlier ones left, plus a few cases the Java client
 * produces and other clients do not (nulls, an empty array, Faults). Store paths are absolute,
 * so the demo daemon must run on the same fixed state directory at recording and at replay;
 * demo store hashes depend on content only, so seeding it again gives the same paths.
 */
export const DEFAULT_AXIS2_STATE_DIR = join(tmpdir(), 'disnix-webservice-axis2');

/** What a step's answer must be, as the Java client reads it. */
export type Expectation =
  | { readonly kind: 'void' }
  | { readonly kind: 'equals'; readonly value: string | readonly string[] }
  | { readonly kind: 'matches'; readonly pattern: string }
  | { readonly kind: 'sameMembers'; readonly value: readonly string[] }
  | { readonly kind: 'fault'; readonly pattern: string }
  /** The downloaded bytes equal the file on the target whose path an earlier step answered. */
  | { readonly kind: 'fileAnsweredBy'; readonly step: string }
  /** The i-th download is the content (base64 here) of the i-th path an earlier step answered. */
  | { readonly kind: 'filesOf'; readonly step: string; readonly contents: Readonly<Record<string, string>> };

export interface Step {
  /** Also the fixture's file name without `.http`. */
  readonly id: string;
  readonly operation: OperationName;
  readonly args: readonly Axis2Arg[];
  /** The return type of the DisnixInterface method (void: invokeRobust, which reads only Faults). */
  readonly returns: JavaReturn;
  readonly expect: Expectation;
  readonly note?: string;
}

/** Everything the seed put in place, which expectations and state checks refer to. */
export interface Seeded {
  readonly stateDir: string;
  readonly storeDir: string;
  readonly app: string;
  readonly lib: string;
  readonly usesLib: string;
  readonly derivation: string;
  readonly profileContent: string;
  readonly profileManifest: string;
  readonly garbage: string;
  /** A closure file on the target, for importm, and the store path name it holds. */
  readonly remoteClosure: string;
  readonly remoteClosureEntry: string;
  /** The closure the coordinator uploads with importLocalFile, and the store path name it holds. */
  readonly uploadClosure: Buffer;
  readonly uploadClosureEntry: string;
  /** The name `snapshot` gives the component state (a content hash in the demo). */
  readonly snapshotName: string;
  /** A snapshot directory on the target, for importSnapshots (which moves it). */
  readonly remoteSnapshotDir: string;
  /** The coordinator's snapshot directory uploaded by importLocalSnapshots, files in upload order. */
  readonly localSnapshotDir: string;
  readonly localSnapshotFiles: readonly { readonly relative: string; readonly content: Buffer }[];
}

const noLog = { pid: 0, log: () => undefined };

/** A closure file made by the demo's own export from a separate store, so importing it adds a path. */
async function closureFrom(sourceDir: string, name: string, content: string | Buffer, destination: string): Promise<string> {
  const layout = demoLayout(sourceDir);
  await ensureLayout(layout);
  const path = await addStorePath(sourceDir, name, content);
  const file = await exportClosure(createEnv(layout), noLog, [path]);
  await mkdir(dirname(destination), { recursive: true });
  await rename(file, destination);
  return basename(path);
}

/** Wipes `stateDir` and puts the scenario's starting state there (the daemon must not run yet). */
export async function seedScenario(stateDir: string): Promise<Seeded> {
  await rm(stateDir, { recursive: true, force: true });
  const layout = demoLayout(stateDir);
  await ensureLayout(layout);
  const coordinator = join(stateDir, 'coordinator');
  const source = join(coordinator, 'source-state');

  const remoteClosure = join(stateDir, 'upload', 'axis2-importm.closure');
  const remoteClosureEntry = await closureFrom(source, 'axis2-importm-payload', 'imported through importm\n', remoteClosure);
  // Large enough to watch the upload reach the disk before the request has fully arrived, and
  // repetitive so that its gzip-compressed recording stays small.
  const uploadPath = join(coordinator, 'axis2-upload.closure');
  const uploadClosureEntry = await closureFrom(source, 'axis2-upload-payload', Buffer.alloc(3 * 1024 * 1024, 'disnix axis2 upload '), uploadPath);

  const app = await addStorePath(stateDir, 'axis2-app', { 'bin/run': '#!/bin/sh\necho axis2\n' });
  const lib = await addStorePath(stateDir, 'axis2-lib', 'library\n');
  const usesLib = await addStorePath(stateDir, 'axis2-uses-lib', 'uses lib\n', [lib]);
  const derivation = await addDerivation(stateDir, 'axis2-build');
  const profileManifest = 'axis2 profile manifest\n';
  const profileContent = await addProfileManifest(stateDir, 'axis2-profile', profileManifest);
  const garbage = await addStorePath(stateDir, 'axis2-garbage', 'garbage\n');

  const componentState = await writeComponentState(stateDir, 'echo', 'axis2-app', { 'data.txt': 'axis2 state\n' });
  const snapshotName = hashTree(await readTree(componentState));

  const remoteSnapshotDir = join(stateDir, 'upload', 'axis2-imported-gen');
  await mkdir(remoteSnapshotDir, { recursive: true });
  await writeFile(join(remoteSnapshotDir, 'state.txt'), 'imported state\n');

  const localSnapshotDir = join(coordinator, 'snapshots', 'axis2-upload-gen');
  // Not sorted: Java's File.listFiles order is the directory's, whatever it is.
  const localSnapshotFiles = [
    { relative: 'sub/data.bin', content: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
    { relative: 'state.txt', content: Buffer.from('uploaded state\n') },
  ];
  for (const { relative, content } of localSnapshotFiles) {
    await mkdir(dirname(join(localSnapshotDir, relative)), { recursive: true });
    await writeFile(join(localSnapshotDir, relative), content);
  }

  return {
    stateDir: layout.stateDir,
    storeDir: layout.storeDir,
    app,
    lib,
    usesLib,
    derivation,
    profileContent,
    profileManifest,
    garbage,
    remoteClosure,
    remoteClosureEntry,
    uploadClosure: await readFile(uploadPath),
    uploadClosureEntry,
    snapshotName,
    remoteSnapshotDir,
    localSnapshotDir,
    localSnapshotFiles,
  };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The session, in order. Names follow DisnixInterface: (derivation, container, type, arguments). */
export function scenarioSteps(s: Seeded): Step[] {
  const absent = join(s.storeDir, '11111111111111111111111111111111-axis2-absent');
  const snapshot = `echo/axis2-app/${s.snapshotName}`;
  const uploadedSnapshot = join(s.stateDir, 'snapshots', 'echo', 'axis2-uploaded', basename(s.localSnapshotDir));
  const steps: Omit<Step, 'id'>[] = [
    { operation: 'captureConfig', args: [], returns: 'String', expect: { kind: 'matches', pattern: 'containers = \\{' } },
    { operation: 'importm', args: [s.remoteClosure], returns: 'void', expect: { kind: 'void' } },
    { operation: 'importLocalFile', args: [dataHandler(s.uploadClosure)], returns: 'void', expect: { kind: 'void' } },
    { operation: 'export', args: [[s.app]], returns: 'String', expect: { kind: 'matches', pattern: `^${escapeRegExp(join(s.stateDir, 'tmp'))}/[^/]+$` } },
    { operation: 'exportRemoteFile', args: [[s.app]], returns: 'DataHandler', expect: { kind: 'fileAnsweredBy', step: '04-export' } },
    { operation: 'printInvalid', args: [[s.app, absent]], returns: 'String[]', expect: { kind: 'equals', value: [absent] } },
    { operation: 'realise', args: [[s.derivation]], returns: 'String[]', expect: { kind: 'equals', value: [outputOf(s.derivation)] } },
    { operation: 'set', args: ['axis2', s.profileContent], returns: 'void', expect: { kind: 'void' } },
    { operation: 'queryInstalled', args: ['axis2'], returns: 'String[]', expect: { kind: 'equals', value: [s.profileManifest] } },
    { operation: 'queryRequisites', args: [[s.usesLib]], returns: 'String[]', expect: { kind: 'sameMembers', value: [s.usesLib, s.lib] } },
    { operation: 'activate', args: [s.app, 'echo', 'echo', []], returns: 'void', expect: { kind: 'void' }, note: 'an empty String[]: no element at all' },
    { operation: 'snapshot', args: [s.app, 'echo', 'echo', ['x=1']], returns: 'void', expect: { kind: 'void' } },
    { operation: 'queryAllSnapshots', args: ['echo', 'axis2-app'], returns: 'String[]', expect: { kind: 'equals', value: [snapshot] } },
    {
      operation: 'queryAllSnapshots',
      args: [null, null],
      returns: 'String[]',
      expect: { kind: 'equals', value: [snapshot] },
      note: 'no --container, no --component: two nils, both item0',
    },
    { operation: 'queryLatestSnapshot', args: ['echo', 'axis2-app'], returns: 'String[]', expect: { kind: 'equals', value: [snapshot] } },
    { operation: 'restore', args: [s.app, 'echo', 'echo', []], returns: 'void', expect: { kind: 'void' } },
    { operation: 'deactivate', args: [s.app, 'echo', 'echo', []], returns: 'void', expect: { kind: 'void' } },
    { operation: 'deleteState', args: [s.app, 'echo', 'echo', []], returns: 'void', expect: { kind: 'void' } },
    {
      operation: 'printMissingSnapshots',
      args: [[snapshot, 'echo/axis2-app/absent']],
      returns: 'String[]',
      expect: { kind: 'equals', value: ['echo/axis2-app/absent'] },
    },
    { operation: 'resolveSnapshots', args: [[snapshot]], returns: 'String[]', expect: { kind: 'equals', value: [join(s.stateDir, 'snapshots', snapshot)] } },
    {
      operation: 'importSnapshots',
      args: [null, null, [s.remoteSnapshotDir]],
      returns: 'void',
      expect: { kind: 'fault', pattern: 'container' },
      note: 'import_snapshots needs a container: a null one is refused before any job runs',
    },
    { operation: 'importSnapshots', args: ['echo', 'axis2-app', [s.remoteSnapshotDir]], returns: 'void', expect: { kind: 'void' } },
    {
      operation: 'importLocalSnapshots',
      args: [
        'echo',
        'axis2-uploaded',
        s.localSnapshotDir,
        s.localSnapshotFiles.map((file) => dataHandler(file.content)),
        s.localSnapshotFiles.map((file) => join(s.localSnapshotDir, file.relative)),
      ],
      returns: 'void',
      expect: { kind: 'void' },
    },
    {
      operation: 'exportRemoteSnapshotPaths',
      args: [uploadedSnapshot],
      returns: 'String[]',
      expect: { kind: 'sameMembers', value: s.localSnapshotFiles.map((file) => join(uploadedSnapshot, file.relative)) },
    },
    {
      operation: 'exportRemoteSnapshots',
      args: [uploadedSnapshot],
      returns: 'DataHandler[]',
      expect: {
        kind: 'filesOf',
        step: '24-exportRemoteSnapshotPaths',
        contents: Object.fromEntries(s.localSnapshotFiles.map((file) => [join(uploadedSnapshot, file.relative), file.content.toString('base64')])),
      },
    },
    {
      operation: 'cleanSnapshots',
      args: [1, null, null],
      returns: 'void',
      expect: { kind: 'void' },
      note: 'every container and component: keeps the newest of each',
    },
    { operation: 'lock', args: ['axis2'], returns: 'void', expect: { kind: 'void' } },
    {
      operation: 'lock',
      args: ['axis2'],
      returns: 'void',
      expect: { kind: 'fault', pattern: 'Cannot exclusively open the lock file!' },
      note: 'locked already',
    },
    { operation: 'unlock', args: ['axis2'], returns: 'void', expect: { kind: 'void' } },
    { operation: 'collectGarbage', args: [false], returns: 'void', expect: { kind: 'void' } },
  ];
  const ids = new Set<string>();
  const named = steps.map((step, index) => {
    const number = String(index + 1).padStart(2, '0');
    let id = `${number}-${step.operation}`;
    if (step.args.includes(null)) id += '-nulls';
    if (step.expect.kind === 'fault') id += '-fault';
    if (ids.has(id)) throw new Error(`two steps named ${id}`);
    ids.add(id);
    return { id, ...step };
  });
  for (const step of named) {
    const ref = 'step' in step.expect ? step.expect.step : undefined;
    if (ref !== undefined && !named.some((other) => other.id === ref && named.indexOf(other) < named.indexOf(step))) {
      throw new Error(`${step.id} refers to ${ref}, which is no earlier step`);
    }
  }
  return named;
}
