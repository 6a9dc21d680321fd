import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stopAtEnd } from '../demo/auto-teardown';
import { GATEWAY_MAIN } from './paths';

/**
 * The compiled gateway (`node dist/server/main.js`) as a child process: what runs in production,
 * with its own signal handling, so tests can see that it stays up, or how it stops.
 */
export interface GatewayProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** True while the process runs. */
  alive(): boolean;
  /** Everything it logged so far (stderr). */
  log(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export const CREDENTIALS = { username: 'operator', password: 'process-test-pw' };
const READY_TIMEOUT_MS = 15_000;
const MAIN = GATEWAY_MAIN;
const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startGatewayProcess(busAddress: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<GatewayProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const child = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--port', '0', '--bus-address', busAddress, '--log-format', 'json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      DISNIX_WEBSERVICE_USERNAME: CREDENTIALS.username,
      DISNIX_WEBSERVICE_PASSWORD: CREDENTIALS.password,
      ...env,
    },
  });
  running.add(child);
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within ${READY_TIMEOUT_MS} ms:\n${log}`)), READY_TIMEOUT_MS);
    const look = () => {
      const match = /listening on (https?:\/\/[^\s"]+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stderr?.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${code}) before it listened:\n${log}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  // Under jest: killed when the test file ends, if the test did not stop it.
  const forget = stopAtEnd(async () => {
    if (alive()) child.kill('SIGKILL');
    await exited;
  });
  void exited.then(forget);
  return {
    url,
    child,
    exited,
    alive,
    log: () => log,
    async stop(signal = 'SIGTERM') {
      if (alive()) child.kill(signal);
      return exited;
    },
  };
}
