import type { DemoEnv } from './demo-layout';
import type { JobContext } from './demo-jobs';
import { profileRoots } from './demo-profiles';
import { deleteStorePath, isValidPath, listStorePaths, readReferences } from './demo-store';

/**
 * `collect_garbage`: deletes every store path not reachable from a root, derivations included
 * (as Nix does). Roots are the profile generations and, like Nix's temporary roots, the
 * derivations being built (with their inputs) and their outputs.
 * The log reads like nix-collect-garbage's.
 */
export async function collectGarbage(env: DemoEnv, job: JobContext, deleteOld: boolean): Promise<void> {
  const { layout } = env;
  await env.mutex.run('gc', async () => {
    const roots = await profileRoots(env, job, deleteOld);
    job.log('finding garbage collector roots...');
    const live = new Set<string>();
    const building = [...env.builds.keys()].flatMap((output) => [output, `${output}.drv`]);
    const queue = [...roots, ...building];
    for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
      if (live.has(path) || !(await isValidPath(layout, path))) continue;
      live.add(path);
      queue.push(...(await readReferences(layout, path)));
    }
    job.log('deleting garbage...');
    let deleted = 0;
    for (const path of await listStorePaths(layout)) {
      if (live.has(path)) continue;
      job.log(`deleting '${path}'`);
      await deleteStorePath(layout, path);
      deleted++;
    }
    job.log('deleting unused links...');
    job.log(`${deleted} store paths deleted, 0.00 MiB freed`);
  });
}
