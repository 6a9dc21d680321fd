import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KeyedMutex } from './demo-mutex';

/** Where everything of one demo daemon lives; see the top of disnix-service.ts. */
export interface DemoLayout {
  readonly stateDir: string;
  readonly storeDir: string;
  readonly dbDir: string;
  readonly profilesDir: string;
  readonly logDir: string;
  readonly snapshotsDir: string;
  readonly componentStateDir: string;
  readonly activeDir: string;
  readonly tmpDir: string;
  readonly locksDir: string;
}

/** `logDir` defaults to `<stateDir>/log`; one given explicitly is used as is, even if absent. */
export function demoLayout(stateDir: string, logDir?: string): DemoLayout {
  const root = resolve(stateDir);
  return {
    stateDir: root,
    storeDir: join(root, 'store'),
    dbDir: join(root, 'db'),
    profilesDir: join(root, 'profiles'),
    logDir: logDir === undefined ? join(root, 'log') : resolve(logDir),
    snapshotsDir: join(root, 'snapshots'),
    componentStateDir: join(root, 'state'),
    activeDir: join(root, 'active'),
    tmpDir: join(root, 'tmp'),
    locksDir: join(root, 'locks'),
  };
}

export async function ensureLayout(layout: DemoLayout, createLogDir = true): Promise<void> {
  const { stateDir: _root, logDir, ...dirs } = layout;
  for (const dir of [...Object.values(dirs), ...(createLogDir ? [logDir] : [])]) await mkdir(dir, { recursive: true });
}

/** What the jobs of one daemon share: the layout, and the in-process coordination. */
export interface DemoEnv {
  readonly layout: DemoLayout;
  /** Serialises jobs that touch the same profile, component or the whole store (GC). */
  readonly mutex: KeyedMutex;
  /** Builds in progress by output path, so that concurrent realises of a derivation build it once
   * and garbage collection leaves their outputs alone. */
  readonly builds: Map<string, Promise<void>>;
}

export function createEnv(layout: DemoLayout): DemoEnv {
  return { layout, mutex: new KeyedMutex(), builds: new Map() };
}
