import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopAtEnd } from './auto-teardown';

/** A private dbus-daemon, for tests and the demo. */
export interface PrivateBus {
  /** `unix:path=<dir>/bus`; stays the same across restart(). */
  readonly address: string;
  readonly dir: string;
  /** Process id of the running dbus-daemon (changes on restart). */
  readonly pid: number;
  /** Stops the daemon (SIGTERM) and removes `dir` if it was created here. */
  stop(): Promise<void>;
  /** Stops the daemon and starts a new one at the same address, so clients can reconnect. */
  restart(): Promise<void>;
}

const DBUS_DAEMON = '/usr/bin/dbus-daemon';
const READY_TIMEOUT_MS = 10_000;
const running = new Set<ChildProcess>();

// A test run that dies without stopping its buses must not leave dbus-daemons behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

/** Starts `dbus-daemon --session` listening on `<dir>/bus`; resolves once it accepts clients. */
export async function startPrivateBus(options: { dir?: string } = {}): Promise<PrivateBus> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'disnix-bus-'));
  const socket = join(dir, 'bus');
  const address = `unix:path=${socket}`;
  let child = await launch(dir, socket, address);

  const halt = async () => {
    await terminate(child);
    await rm(socket, { force: true });
  };
  const stop = async () => {
    forget();
    await halt();
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };
  // Under jest: stopped when the test file ends, if the test did not stop it.
  const forget = stopAtEnd(stop);
  return {
    address,
    dir,
    get pid() {
      return child.pid ?? -1;
    },
    stop,
    async restart() {
      await halt();
      child = await launch(dir, socket, address);
    },
  };
}

async function launch(dir: string, socket: string, address: string): Promise<ChildProcess> {
  await mkdir(dir, { recursive: true });
  await rm(socket, { force: true });
  // --print-address writes the address once the socket listens: that line is the ready signal.
  const child = spawn(DBUS_DAEMON, ['--session', '--nofork', `--address=${address}`, '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  try {
    await new Promise<void>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`dbus-daemon did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      const done = (error?: Error) => {
        clearTimeout(timer);
        child.stdout?.removeAllListeners('data');
        child.stderr?.removeAllListeners('data');
        if (error) reject(error);
        else resolve();
      };
      child.once('error', (error) => done(new Error(`cannot run ${DBUS_DAEMON}: ${error.message}`)));
      child.once('exit', (code, signal) => done(new Error(`dbus-daemon exited (${signal ?? code}): ${stderr.trim()}`)));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) done();
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // Keep draining its output so that the daemon never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
