import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { DEFAULT_SERVICE_PATH } from '../protocol/operations';
import type { RelayFramework } from './bare-relay';
import { freeLoopbackPort } from './free-port';

const SCRIPT = join(__dirname, 'bare-relay.js');
const READY_TIMEOUT_MS = 15_000;

export interface BareRelay {
  /** Where it takes the SOAP POSTs, as the gateway's own URL. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts a bare relay (bare-relay.ts) in a process of its own, as the gateway runs,
 * and resolves once it listens. Its D-Bus connection takes every disnix signal, as the direct
 * baseline's does, so it is meant to run only while it is measured: stop it right after.
 */
export async function startBareRelay(busAddress: string, profile: string, framework: RelayFramework = 'express'): Promise<BareRelay> {
  const port = await freeLoopbackPort();
  const child = spawn(process.execPath, [SCRIPT, String(port), busAddress, DEFAULT_SERVICE_PATH, profile, framework], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  // Killed with the bench if it ends first (the relay also exits when its IPC channel closes,
  // which covers a bench that is killed outright); the listener goes with the child.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = once(child, 'exit').then(() => process.off('exit', killOnExit));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bare relay was not ready within ${READY_TIMEOUT_MS / 1000} s: ${stderr.trim()}`)), READY_TIMEOUT_MS);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the bare relay exited (${code ?? signal}): ${stderr.trim()}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}${DEFAULT_SERVICE_PATH}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
