/**
 * Under jest, every process or server the test support starts is stopped at the end of the test
 * file that started it, even when the file forgot to: this module, loaded while the file is
 * collected, registers one afterAll that stops (last started, first stopped) whatever is still
 * registered then. Stopping a thing explicitly unregisters it. Outside jest (the demo launcher,
 * the bench) it does nothing: their processes have their own 'exit' handlers.
 *
 * Each test file has its own module registry and globals, so each has its own list.
 */
type Stop = () => Promise<unknown>;

const TIMEOUT_MS = 60_000;
const pending: Stop[] = [];
let registered = false;

const hook = (globalThis as { afterAll?: (fn: () => Promise<void>, timeout?: number) => void }).afterAll;
if (typeof hook === 'function') {
  try {
    hook(async () => {
      const failures: unknown[] = [];
      while (pending.length > 0) {
        const stop = pending.pop()!;
        await stop().catch((error: unknown) => failures.push(error));
      }
      if (failures.length > 0) throw failures[0];
    }, TIMEOUT_MS);
    registered = true;
  } catch {
    // Loaded first inside a test or hook, where jest takes no new hooks: the test stops its own.
  }
}

/**
 * Registers `stop` to run when the test file ends, if it has not run by then. Returns the
 * function to call once it has been stopped otherwise (it then leaves the list).
 */
export function stopAtEnd(stop: Stop): () => void {
  if (!registered) return () => undefined;
  pending.push(stop);
  return () => {
    const index = pending.indexOf(stop);
    if (index >= 0) pending.splice(index, 1);
  };
}
