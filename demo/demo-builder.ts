import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DemoEnv } from './demo-layout';
import type { JobContext } from './demo-jobs';
import { JobError } from './demo-job-error';
import { cannotBuild, isValidPath, readDerivation, registerPath, requireStorePath } from './demo-store';
import { treeFromFiles } from './demo-tree';

/**
 * `realise`: a derivation `<hash>-<name>.drv` builds into `<hash>-<name>`; a path that is not a
 * derivation realises to itself when valid. Builds take `buildMs`, can be told to `fail`, build
 * the derivations they refer to first, and run at most once at a time per output. The log
 * reads like Nix's: the plan, then one "building" line per derivation.
 */
export async function realise(env: DemoEnv, job: JobContext, paths: readonly string[]): Promise<string[]> {
  const planned = new Set<string>();
  for (const path of paths) await plan(env, path, planned, []);
  if (planned.size > 0) {
    job.log(planned.size === 1 ? 'this derivation will be built:' : `these ${planned.size} derivations will be built:`);
    for (const drv of [...planned].sort()) job.log(`  ${drv}`);
  }
  const outputs: string[] = [];
  for (const path of paths) outputs.push(await realisePath(env, job, path));
  return outputs;
}

const outputOf = (drvPath: string) => drvPath.slice(0, -'.drv'.length);

/** Collects the derivations to build, failing early for paths nothing can make valid. */
async function plan(env: DemoEnv, path: string, planned: Set<string>, chain: readonly string[]): Promise<void> {
  const { layout } = env;
  requireStorePath(layout, path);
  if (!path.endsWith('.drv')) {
    if (!(await isValidPath(layout, path))) throw cannotBuild(path);
    return;
  }
  if (!(await isValidPath(layout, path))) throw cannotBuild(path, `error: cannot build missing derivation '${path}'`);
  if (chain.includes(path)) throw new JobError(`error: cycle detected in the references of '${path}'`);
  if (planned.has(path) || (await isValidPath(layout, outputOf(path)))) return;
  planned.add(path);
  for (const reference of (await readDerivation(layout, path)).references ?? []) {
    await plan(env, reference, planned, [...chain, path]);
  }
}

async function realisePath(env: DemoEnv, job: JobContext, path: string): Promise<string> {
  const { layout } = env;
  if (!path.endsWith('.drv')) {
    if (await isValidPath(layout, path)) return path;
    throw cannotBuild(path);
  }
  const output = outputOf(path);
  if (await isValidPath(layout, output)) return output;
  let build = env.builds.get(output);
  if (build === undefined) {
    build = buildOutput(env, job, path, output).finally(() => env.builds.delete(output));
    env.builds.set(output, build);
  }
  await build;
  return output;
}

async function buildOutput(env: DemoEnv, job: JobContext, drvPath: string, output: string): Promise<void> {
  const spec = await readDerivation(env.layout, drvPath);
  const references: string[] = [];
  for (const reference of spec.references ?? []) references.push(await realisePath(env, job, reference));
  job.log(`building '${drvPath}'...`);
  if (spec.buildMs !== undefined && spec.buildMs > 0) await sleep(spec.buildMs);
  if (spec.fail !== undefined) {
    throw new JobError(`${spec.fail}\nerror: builder for '${drvPath}' failed with exit code 1`);
  }
  const files = spec.files ?? defaultFiles(spec.name, references);
  await registerPath(env.layout, basename(output), treeFromFiles(files, spec.files === undefined), references);
}

function defaultFiles(name: string, references: readonly string[]): Record<string, string> {
  const needs = references.map((ref) => `# needs ${ref}\n`).join('');
  return { [`bin/${name}`]: `#!/bin/sh\n${needs}echo "Hello from ${name}"\n` };
}
