import { constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../errors/error-catalogue';

/**
 * The private directory of one call of the streaming path under the gateway's upload
 * directory: received files go to `parts/`, a snapshot tree is assembled under `tree/`. It is
 * removed when the call ends, however it ends. Its mode is 0700 (files 0600): snapshots can hold
 * secrets, and disnix-service, which reads them, runs as root.
 *
 * It is made when first needed: most calls of this path carry no file (the Java client's
 * calls all come this way), and two directory operations per call would cost more than the
 * rest of such a call. Made synchronously, once per upload, because the reader asks for a file's
 * path synchronously; its failure (no space, no permission) fails that call.
 */
const AREA_PREFIX = 'disnix-upload-';

export interface UploadArea {
  /** The directory, made now if it is not yet. */
  readonly dir: string;
  /** A new path under `parts/` for the next received file. */
  newFilePath(): string;
  remove(): Promise<void>;
}

export function createUploadArea(uploadDir: string): UploadArea {
  let made: string | undefined;
  let next = 0;
  const dir = (): string => {
    if (made !== undefined) return made;
    let fresh: string | undefined;
    try {
      fresh = mkdtempSync(join(uploadDir, AREA_PREFIX));
      mkdirSync(join(fresh, 'parts'));
    } catch (error) {
      if (fresh !== undefined) rmSync(fresh, { recursive: true, force: true });
      throw uploadStorageError(uploadDir, error);
    }
    return (made = fresh);
  };
  return {
    get dir() {
      return dir();
    },
    newFilePath: () => join(dir(), 'parts', String(next++)),
    remove: () => (made === undefined ? Promise.resolve() : rm(made, { recursive: true, force: true, maxRetries: 2 })),
  };
}

export function uploadStorageError(uploadDir: string, error: unknown): GatewayError {
  const reason = (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message;
  return new GatewayError('GW_ERR_UPLOAD_STORAGE', `the gateway cannot store the upload in ${uploadDir} (--upload-dir): ${reason}`, { cause: error });
}

/**
 * Ends the wait of a daemon blocked opening a named pipe of a gateway that died between calling
 * import and the daemon's open (see streamed-import): each pipe left in an upload area is opened
 * for writing once and closed, which the daemon's reader sees as the end of a truncated closure.
 * Harmless for a pipe a running gateway still writes: that writer stays. Never fails.
 */
export async function releaseAbandonedPipes(uploadDir: string): Promise<number> {
  let released = 0;
  const areas = await readdir(uploadDir).catch(() => [] as string[]);
  for (const area of areas.filter((name) => name.startsWith(AREA_PREFIX))) {
    const parts = join(uploadDir, area, 'parts');
    for (const entry of await readdir(parts, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isFIFO()) continue;
      // ENXIO: nobody has it open for reading, so nobody waits on it.
      const handle = await open(join(parts, entry.name), constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
      if (handle === undefined) continue;
      await handle.close();
      released++;
    }
  }
  return released;
}
