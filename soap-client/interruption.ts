import { rmSync } from 'node:fs';

/**
 * What an interrupted client (Ctrl-C, the coordinator's SIGTERM, a closed terminal) undoes
 * before it ends: a half-received download is removed, a progress bar gives the cursor back.
 * The signal is then raised again, so the exit status says how the client ended. Nothing is
 * installed until a transfer asks, so other calls end on a signal as they always did.
 */
const undo = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;
let removedSome = false;

/** Registers `action` for an interruption; the returned function withdraws it. */
export function onInterrupt(action: () => void): () => void {
  if (!installed) {
    installed = true;
    for (const signal of SIGNALS) process.once(signal, () => interrupted(signal));
  }
  undo.add(action);
  return () => {
    undo.delete(action);
  };
}

/** Removes a directory when the client is interrupted, until it is withdrawn. */
export function removeOnInterrupt(dir: string): () => void {
  return onInterrupt(() => {
    rmSync(dir, { recursive: true, force: true });
    removedSome = true;
  });
}

function interrupted(signal: (typeof SIGNALS)[number]): void {
  for (const action of undo) {
    try {
      action();
    } catch {
      // Best effort: the rest is still undone, and the signal still ends the process.
    }
  }
  undo.clear();
  for (const other of SIGNALS) process.removeAllListeners(other);
  if (removedSome) process.stderr.write(`disnix-soap-client: interrupted (${signal}); what was received so far was removed\n`);
  process.kill(process.pid, signal);
}
