import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The private directory of one transfer call under the gateway's upload directory: received
 * files go to `parts/`, a snapshot tree is assembled under `tree/`. It is removed when the
 * call ends, however it ends. Its mode is 0700 (files 0600): snapshots can hold secrets, and
 * disnix-service, which reads them, runs as root.
 */
export interface UploadArea {
  readonly dir: string;
  /** A new path under `parts/` for the next received file. */
  newFilePath(): string;
  remove(): Promise<void>;
}

export async function createUploadArea(uploadDir: string): Promise<UploadArea> {
  const dir = await mkdtemp(join(uploadDir, 'disnix-upload-'));
  const parts = join(dir, 'parts');
  try {
    await mkdir(parts);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let next = 0;
  return {
    dir,
    newFilePath: () => join(parts, String(next++)),
    remove: () => rm(dir, { recursive: true, force: true, maxRetries: 2 }),
  };
}
