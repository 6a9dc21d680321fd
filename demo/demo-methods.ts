import { realise } from './demo-builder';
import { exportClosure, importClosure, openClosureFile } from './demo-closure';
import { captureConfig, type DysnomiaOperation, runDysnomia } from './demo-dysnomia';
import { collectGarbage } from './demo-gc';
import { finished, type JobMethod, succeeded } from './demo-jobs';
import { lockProfile, queryInstalled, setProfile, unlockProfile } from './demo-profiles';
import { cleanSnapshots, importSnapshots, missingSnapshots, querySnapshots, resolveSnapshots } from './demo-snapshots';
import { invalidPaths, requisites } from './demo-store';

/**
 * The job methods of org.nixos.disnix.Disnix: the signature of their arguments after the job
 * id, the header line the real daemon writes first in the job's log, and the work. Written
 * down here, independently of wsdl/operations.ts, because this daemon stands in for the real
 * one: a test checks that the two agree.
 */
type Args = unknown[];
const strings = (value: unknown) => value as string[];
const string = (value: unknown) => value as string;
/** How the real daemon lists paths in a header: each followed by a space. */
const list = (value: unknown) =>
  strings(value)
    .map((item) => `${item} `)
    .join('');
/** A job that ends with `finish` once the work is done. */
const done = (work: Promise<unknown>) => work.then(() => finished);

const dysnomia = (operation: DysnomiaOperation, verb: string = operation): JobMethod => ({
  signature: 'sssas',
  header: ([path, container, type, args]) =>
    `${verb}: ${string(path)} of type: ${string(type)} in container: ${string(container)} with arguments: ${list(args)}`,
  run: (env, job, [path, container, type, args]: Args) => done(runDysnomia(env, job, operation, string(path), string(container), string(type), strings(args))),
});

export const JOB_METHODS: Readonly<Record<string, JobMethod>> = {
  import: {
    signature: 's',
    header: ([closure]) => `Importing: ${string(closure)}`,
    beforeReply: ([closure]) => openClosureFile(string(closure)),
    run: (env, job, [closure]: Args, fd) => done(importClosure(env, job, string(closure), fd as number)),
  },
  export: {
    signature: 'as',
    failsSilently: true,
    header: ([paths]) => `Exporting: ${list(paths)}`,
    run: async (env, job, [paths]: Args) => succeeded([await exportClosure(env, job, strings(paths))]),
  },
  print_invalid: {
    signature: 'as',
    header: ([paths]) => `Print invalid: ${list(paths)}`,
    run: async (env, _job, [paths]: Args) => succeeded(await invalidPaths(env.layout, strings(paths))),
  },
  realise: {
    signature: 'as',
    header: ([paths]) => `Realising: ${list(paths)}`,
    run: async (env, job, [paths]: Args) => succeeded(await realise(env, job, strings(paths))),
  },
  set: {
    signature: 'ss',
    header: ([profile, path]) => `Set profile: ${string(profile)} with derivation: ${string(path)}`,
    run: (env, job, [profile, path]: Args) => done(setProfile(env, job, string(profile), string(path))),
  },
  query_installed: {
    signature: 's',
    header: ([profile]) => `Query installed derivations from profile: ${string(profile)}`,
    run: async (env, _job, [profile]: Args) => succeeded(await queryInstalled(env, string(profile))),
  },
  query_requisites: {
    signature: 'as',
    header: ([paths]) => `Query requisites from derivations: ${list(paths)}`,
    run: async (env, _job, [paths]: Args) => succeeded(await requisites(env.layout, strings(paths))),
  },
  collect_garbage: {
    signature: 'b',
    header: ([deleteOld]) => (deleteOld ? 'Garbage collect and remove old derivations' : 'Garbage collect'),
    run: (env, job, [deleteOld]: Args) => done(collectGarbage(env, job, deleteOld === true)),
  },
  activate: dysnomia('activate'),
  deactivate: dysnomia('deactivate'),
  // Dysnomia calls deleting state "collect-garbage", and so does the real daemon's log.
  delete_state: dysnomia('delete_state', 'collect-garbage'),
  snapshot: dysnomia('snapshot'),
  restore: dysnomia('restore'),
  lock: {
    signature: 's',
    header: ([profile]) => `Acquiring lock on profile: ${string(profile)}`,
    run: (env, job, [profile]: Args) => done(lockProfile(env, job, string(profile))),
  },
  unlock: {
    signature: 's',
    header: ([profile]) => `Releasing lock on profile: ${string(profile)}`,
    run: (env, _job, [profile]: Args) => done(unlockProfile(env, string(profile))),
  },
  query_all_snapshots: {
    signature: 'ss',
    header: ([container, component]) => `Query all snapshots from container: ${string(container)} and component: ${string(component)}`,
    run: async (env, _job, [container, component]: Args) => succeeded(await querySnapshots(env, string(container), string(component), false)),
  },
  query_latest_snapshot: {
    signature: 'ss',
    header: ([container, component]) => `Query latest snapshot from container: ${string(container)} and component: ${string(component)}`,
    run: async (env, _job, [container, component]: Args) => succeeded(await querySnapshots(env, string(container), string(component), true)),
  },
  print_missing_snapshots: {
    signature: 'as',
    header: ([snapshots]) => `Print missing snapshots: ${list(snapshots)}`,
    run: async (env, _job, [snapshots]: Args) => succeeded(await missingSnapshots(env, strings(snapshots))),
  },
  import_snapshots: {
    signature: 'ssas',
    header: ([, , dirs]) => `Import snapshots: ${list(dirs)}`,
    run: (env, _job, [container, component, dirs]: Args) =>
      done(env.mutex.run('snapshots', () => importSnapshots(env, string(container), string(component), strings(dirs)))),
  },
  resolve_snapshots: {
    signature: 'as',
    header: ([snapshots]) => `Resolve snapshots: ${list(snapshots)}`,
    run: async (env, _job, [snapshots]: Args) => succeeded(resolveSnapshots(env, strings(snapshots))),
  },
  clean_snapshots: {
    signature: 'iss',
    header: ([keep, container, component]) =>
      `Clean old snapshots${string(container) ? ` for container: ${string(container)}` : ''}` +
      `${string(component) ? ` for component: ${string(component)}` : ''} num of generations to keep: ${String(keep)}!`,
    run: (env, job, [keep, container, component]: Args) =>
      done(env.mutex.run('snapshots', () => cleanSnapshots(env, job, keep as number, string(container), string(component)))),
  },
  // The real daemon writes nothing in this job's log, not even a header.
  capture_config: {
    signature: '',
    failsSilently: true,
    run: async (env, job) => succeeded([await captureConfig(env, job.pid)]),
  },
};
