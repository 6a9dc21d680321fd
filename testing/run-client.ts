import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLIENT_MAIN } from './paths';

/** The compiled disnix-soap-client, run as the coordinator runs it (npm test builds it first). */
export const CLIENT = CLIENT_MAIN;

export interface ClientRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

export function assertClientBuilt(): void {
  if (!existsSync(CLIENT)) throw new Error(`${CLIENT} is missing: run npm run build first`);
}

/**
 * Runs the client asynchronously with only PATH and the given variables in its environment
 * (a variable given as undefined is left out). With `timeoutMs`, a client that hangs is killed
 * and its run ends with code null.
 */
export function runClient(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  options: { readonly timeoutMs?: number } = {},
): Promise<ClientRun> {
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries({ PATH: process.env.PATH, ...env })) if (value !== undefined) childEnv[key] = value;
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLIENT, ...args], { env: childEnv, maxBuffer: 256 * 1024 * 1024, timeout: options.timeoutMs ?? 0 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}
