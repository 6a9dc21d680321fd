import { readdir } from 'node:fs/promises';

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
