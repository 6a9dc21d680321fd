import { link, mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeOnInterrupt } from './interruption';

/**
 * Where a download lands: a new directory under $TMPDIR whose `.parts/` receives the files of
 * the answer as they stream in. Removed whole when the download fails, or the client is
 * interrupted (SIGINT, SIGTERM, SIGHUP), so a failed or cut-short transfer leaves nothing behind.
 */
export interface DownloadArea {
  readonly dir: string;
  newFilePath(): string;
  /** Removes the whole area. */
  remove(): Promise<void>;
  /** Removes the received files not moved elsewhere, keeping the directory. */
  removeParts(): Promise<void>;
}

export async function createDownloadArea(prefix: string): Promise<DownloadArea> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const withdraw = removeOnInterrupt(dir);
  const parts = join(dir, '.parts');
  await mkdir(parts);
  let next = 0;
  return {
    dir,
    newFilePath: () => join(parts, String(next++)),
    remove: async () => {
      await rm(dir, { recursive: true, force: true });
      withdraw();
    },
    removeParts: () => rm(parts, { recursive: true, force: true }),
  };
}

/**
 * Moves a file to a new unique name directly under $TMPDIR, the way the coordinator expects a
 * downloaded closure (it removes that file itself once imported). link() refuses an existing
 * name, so no other file can be overwritten.
 */
export async function moveToTempName(path: string, prefix: string): Promise<string> {
  for (let attempt = 0; ; attempt += 1) {
    const target = join(tmpdir(), `${prefix}-${randomBytes(6).toString('hex')}`);
    try {
      await link(path, target);
      await unlink(path);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 5) throw error;
    }
  }
}
