import { readFileSync, readlinkSync } from 'node:fs';
import { readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DemoEnv, DemoLayout } from './demo-layout';
import type { JobContext } from './demo-jobs';
import { JobError } from './demo-job-error';
import { cannotBuild, isValidPath, requireStorePath } from './demo-store';

/**
 * Profiles as Nix keeps them: `profiles/<name>` is a symlink to the current generation
 * `profiles/<name>-<N>-link`, itself a symlink to a store path. As with Disnix, that store path
 * is normally a directory holding a `manifest` file, whose text query_installed answers.
 * Locks are `locks/<name>`.
 */
const PROFILE = /^[A-Za-z0-9+_=][A-Za-z0-9+\-._=]*$/;

function profilePath(layout: DemoLayout, profile: string): string {
  if (!PROFILE.test(profile)) throw new JobError(`error: invalid profile name '${profile}'`);
  return join(layout.profilesDir, profile);
}

/** Generation numbers of a profile, ascending. */
async function generations(layout: DemoLayout, profile: string): Promise<number[]> {
  const pattern = new RegExp(`^${profile.replace(/[.+?=]/g, '\\$&')}-(\\d+)-link$`);
  const numbers: number[] = [];
  for (const name of await readdir(layout.profilesDir)) {
    const match = pattern.exec(name);
    if (match) numbers.push(Number(match[1]));
  }
  return numbers.sort((a, b) => a - b);
}

const generationLink = (profile: string, generation: number) => `${profile}-${generation}-link`;

export async function setProfile(env: DemoEnv, job: JobContext, profile: string, path: string): Promise<void> {
  const { layout } = env;
  const link = profilePath(layout, profile);
  requireStorePath(layout, path);
  if (!(await isValidPath(layout, path))) throw cannotBuild(path);
  await env.mutex.run(`profile:${profile}`, async () => {
    const generation = ((await generations(layout, profile)).pop() ?? 0) + 1;
    const target = generationLink(profile, generation);
    await symlink(path, join(layout.profilesDir, target));
    // Switch by renaming a fresh symlink over the old one, so readers never see no profile.
    const temporary = `${link}.tmp-${job.pid}`;
    await rm(temporary, { force: true });
    await symlink(target, temporary);
    await rename(temporary, link);
  });
}

/**
 * What a profile holds: like the real daemon, the text of the `manifest` in its store path,
 * and `""` for an unknown profile. A store path without a manifest answers itself, a demo
 * convenience so that any path can round-trip through set and query_installed.
 */
export async function queryInstalled(env: DemoEnv, profile: string): Promise<string[]> {
  // Synchronous: two links and one small file, which cost less read at once than through three
  // thread-pool round trips (the benchmarks' cheap job is this one).
  let target: string;
  try {
    const link = profilePath(env.layout, profile);
    target = readlinkSync(join(env.layout.profilesDir, readlinkSync(link)));
  } catch {
    return [''];
  }
  try {
    return [readFileSync(join(target, 'manifest'), 'utf8')];
  } catch {
    return [target];
  }
}

export async function lockProfile(env: DemoEnv, job: JobContext, profile: string): Promise<void> {
  profilePath(env.layout, profile);
  try {
    await writeFile(join(env.layout.locksDir, profile), `${job.pid}\n`, { flag: 'wx' });
  } catch {
    throw new JobError('Cannot exclusively open the lock file!');
  }
}

export async function unlockProfile(env: DemoEnv, profile: string): Promise<void> {
  profilePath(env.layout, profile);
  try {
    await rm(join(env.layout.locksDir, profile));
  } catch {
    throw new JobError('There is no lock file!');
  }
}

/** Names of all profiles (the symlinks that are not generation links). */
async function profileNames(layout: DemoLayout): Promise<string[]> {
  return (await readdir(layout.profilesDir)).filter((name) => PROFILE.test(name) && !/-\d+-link$/.test(name));
}

/**
 * The garbage collector's roots from profiles: the targets of all generations kept. With
 * `deleteOld`, every generation but the current one is removed first (nix-collect-garbage -d).
 */
export async function profileRoots(env: DemoEnv, job: JobContext, deleteOld: boolean): Promise<string[]> {
  const { layout } = env;
  const roots: string[] = [];
  for (const profile of await profileNames(layout)) {
    await env.mutex.run(`profile:${profile}`, async () => {
      if (deleteOld) job.log(`removing old generations of profile ${join(layout.profilesDir, profile)}`);
      const current = await readlink(join(layout.profilesDir, profile)).catch(() => undefined);
      for (const generation of await generations(layout, profile)) {
        const name = generationLink(profile, generation);
        const linkPath = join(layout.profilesDir, name);
        if (deleteOld && name !== current) {
          job.log(`removing profile version ${generation}`);
          await rm(linkPath, { force: true });
        } else {
          const target = await readlink(linkPath).catch(() => undefined);
          if (target !== undefined) roots.push(target);
        }
      }
    });
  }
  return roots;
}
