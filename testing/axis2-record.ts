import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../demo/project-root';
import { DEFAULT_SERVICE_PATH } from '../protocol/operations';
import { type Axis2Arg, axis2Request } from './axis2-request';
import { DEFAULT_AXIS2_STATE_DIR, type Expectation, scenarioSteps, seedScenario } from './axis2-scenario';
import type { JavaReturn } from './axis2-response';

/**
 * Records tests/fixtures/axis2: one `<id>.http` file per step of the Java client's session
 * (the request bytes as Axis2 sends them) and manifest.json (order, return types, expected
 * answers). Nothing here talks to a gateway: the expectations come from the seeded state, so
 * the recording does not take the gateway's word for what is right.
 *
 *   npm run build && npm run record-axis2-fixtures
 */
export interface ManifestStep {
  readonly id: string;
  readonly file: string;
  readonly operation: string;
  readonly javaReturn: JavaReturn;
  /** The Java arguments, files shown by size and SHA-256. */
  readonly args: readonly unknown[];
  readonly expect: Expectation;
  readonly note?: string;
}

export interface Manifest {
  readonly regenerate: string;
  /** The demo daemon's state directory at recording; replays must use the same one. */
  readonly stateDir: string;
  readonly host: string;
  readonly path: string;
  readonly steps: readonly ManifestStep[];
}

export const RECORDING_HOST = '127.0.0.1:8080';

export const fixtureDir = (): string => join(projectRoot(), 'tests', 'fixtures', 'axis2');

function describeArg(arg: Axis2Arg): unknown {
  const file = (data: Buffer) => ({ file: { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') } });
  if (Array.isArray(arg)) return arg.map((value: string | { kind: 'file'; data: Buffer }) => (typeof value === 'string' ? value : file(value.data)));
  if (typeof arg === 'object' && arg !== null && 'kind' in arg) return file(arg.data);
  return arg;
}

export async function record(outDir = fixtureDir(), stateDir = DEFAULT_AXIS2_STATE_DIR): Promise<Manifest> {
  const seeded = await seedScenario(stateDir);
  try {
    const steps = scenarioSteps(seeded);
    await mkdir(outDir, { recursive: true });
    for (const name of await readdir(outDir)) if (name.endsWith('.http') || name === 'manifest.json') await rm(join(outDir, name));
    const manifestSteps: ManifestStep[] = [];
    for (const step of steps) {
      const file = `${step.id}.http`;
      await writeFile(join(outDir, file), axis2Request(step.operation, step.args, { seed: step.id, path: DEFAULT_SERVICE_PATH, host: RECORDING_HOST }));
      manifestSteps.push({
        id: step.id,
        file,
        operation: step.operation,
        javaReturn: step.returns,
        args: step.args.map(describeArg),
        expect: step.expect,
        ...(step.note ? { note: step.note } : {}),
      });
    }
    const manifest: Manifest = {
      regenerate: 'npm run build && npm run record-axis2-fixtures',
      stateDir: seeded.stateDir,
      host: RECORDING_HOST,
      path: DEFAULT_SERVICE_PATH,
      steps: manifestSteps,
    };
    await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  record().then(
    (manifest) => console.log(`recorded ${manifest.steps.length} requests into ${fixtureDir()}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
