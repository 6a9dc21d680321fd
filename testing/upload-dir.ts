import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Expects a directory to be empty within a few seconds: the gateway removes a call's upload
 * area after the answer (or the caller's disconnect), so the test may look a moment too early.
 */
export async function expectEmptySoon(dir: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left = await readdir(dir);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = await readdir(dir);
  }
  expect(left).toEqual([]);
}

/** The bytes of every file under a directory, at any depth; what vanishes meanwhile counts nothing. */
export async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(path);
    else total += (await stat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
