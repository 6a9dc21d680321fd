import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopAtEnd } from '../demo/auto-teardown';

/**
 * A server program (nginx, apache2) run by a test: in its own process group, so that stopping
 * it also ends its worker processes, with bounded waits for start and stop.
 */
export interface ServerProcess {
  readonly pid: number;
  /** SIGTERM, then SIGKILL to the whole group if it has not exited within a few seconds. */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** The loopback port it serves on: started = accepting connections there. */
  readonly port: number;
  /** Its error log, shown when it fails to start. */
  readonly errorLog: string;
  readonly startTimeoutMs?: number;
}

const STOP_TIMEOUT_MS = 10_000;
const SETTLE_MS = 200;
const running = new Set<ChildProcess>();

// A test process that dies without stopping its servers must not leave them behind.
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

const handedOut = new Set<number>();

/**
 * A port that was free a moment ago, and not handed out before in this process (servers started
 * at once would otherwise get the same one); the caller retries when another process took it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(options.command, [...options.args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    running.delete(child);
  });

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    // Still running a moment after the port accepts: then what accepted was this server, not
    // another one on the same port while this one failed to bind it.
    if (await accepts(options.port)) {
      await sleep(SETTLE_MS);
      if (!hasExited) break;
    }
    if (hasExited || child.pid === undefined || Date.now() > deadline) {
      killGroup(child, 'SIGKILL');
      const log = await readFile(options.errorLog, 'utf8').catch(() => '');
      const why = hasExited ? `exited with ${child.exitCode ?? child.signalCode}` : 'did not start listening in time';
      throw new Error(`${options.command} ${why} on port ${options.port}:\n${output}${log}`);
    }
    await sleep(50);
  }
  const stop = async () => {
    forget();
    if (!hasExited) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)));
    await Promise.race([exited, late]);
    clearTimeout(timer);
    // Workers of a master that did not stop in time, or that it left behind.
    killGroup(child, 'SIGKILL');
    await exited;
  };
  // Under jest: stopped when the test file ends, if the test did not stop it.
  const forget = stopAtEnd(stop);
  return { pid: child.pid!, stop };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(command: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    child.once('error', reject);
    // 'close', not 'exit': only then has all of its output been read.
    child.once('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output}`))));
    child.stdin?.end(input);
  });
}
