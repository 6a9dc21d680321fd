import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';

/** Build logs can be huge; a Fault carries the end of the log, where the error is. */
const MAX_LOG_BYTES = 1024 * 1024;

/** Reads what a job has logged so far, or says why the log cannot be read. */
export async function readJobLog(logDir: string, jobId: number): Promise<string> {
  const path = join(logDir, String(jobId));
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? '' : `(the job log ${path} cannot be read: ${code ?? String(error)})`;
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - MAX_LOG_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    return start > 0 ? `(the first ${start} bytes of ${path} are left out)\n${text}` : text;
  } finally {
    await handle.close();
  }
}
