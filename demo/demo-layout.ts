import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
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
  /**
   * The daemon's TMPDIR: where export and capture_config write their `disnix.XXXXXX` files and,
   * like the real daemon, leave them.
   */
  readonly tempDir: string;
  /** Serialises jobs that touch the same profile, component or the whole store (GC). */
  readonly mutex: KeyedMutex;
  /** Builds in progress by output path, so that concurrent realises of a derivation build it once
   * and garbage collection leaves their outputs alone. */
  readonly builds: Map<string, Promise<void>>;
}

export function createEnv(layout: DemoLayout, tempDir: string = layout.tmpDir): DemoEnv {
  return { layout, tempDir, mutex: new KeyedMutex(), builds: new Map() };
}

const TEMPLATE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A new empty file `<tempDir>/disnix.XXXXXX`, made as the real daemon makes it (mkstemp); its path.
 */
export async function makeDaemonTempFile(env: DemoEnv): Promise<string> {
  for (;;) {
    const suffix = Array.from(randomBytes(6), (byte) => TEMPLATE_CHARS[byte % TEMPLATE_CHARS.length]).join('');
    const path = join(env.tempDir, `disnix.${suffix}`);
    try {
      await (await open(path, 'wx')).close();
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
