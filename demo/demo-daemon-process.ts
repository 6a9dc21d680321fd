import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stopAtEnd } from './auto-teardown';
import { demoLayout } from './demo-layout';
import { projectRoot } from './project-root';

/** A demo disnix-service running as a child process (so that tests can kill it mid-job). */
export interface DemoDaemon {
  readonly stateDir: string;
  readonly logDir: string;
  readonly storeDir: string;
  /** The daemon's TMPDIR, where its export and capture_config files go. */
  readonly tmpDir: string;
  readonly pid: number;
  /** Resolves with the exit code (null when killed by a signal) once the daemon has exited. */
  readonly exited: Promise<number | null>;
  /** What the daemon wrote on stderr so far (its complaints, if any). */
  stderr(): string;
  /** SIGTERM, then resolves once it has exited. Keeps the state directory (see below). */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL); resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface DemoDaemonOptions {
  readonly busAddress: string;
  /**
   * Default: a new directory beside the bus socket when the bus is a `unix:path=` one (so a
   * private bus that made its own directory removes it on stop()), else in the temp dir.
   */
  readonly stateDir?: string;
  readonly extraArgs?: readonly string[];
  /** The daemon's TMPDIR (default: tmp/ of its state directory, so nothing lands in the shared /tmp). */
  readonly tmpDir?: string;
  /** Flags for node itself, e.g. --cpu-prof to profile the daemon under a benchmark's load. */
  readonly nodeArgs?: readonly string[];
}

const READY_TIMEOUT_MS = 15_000;
const children = new Set<ChildProcess>();
const temporaryDirs = new Set<string>();

// Outside jest (scripts, the demo launcher), daemons left running die with the process and
// temp-dir states go too; jest gives test files their own `process`, whose 'exit' never fires.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

export function demoDaemonScript(): string {
  const script = join(projectRoot(), 'dist-dev', 'demo', 'disnix-service.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: run npm run build:dev first`);
  return script;
}

/**
 * State must outlive a stopped daemon (a test may start another on it), so it goes where it
 * is cleaned up anyway: in the private bus's directory.
 */
function newStateDir(busAddress: string): string {
  const socket = /^unix:path=([^,;]+)/.exec(busAddress)?.[1];
  if (socket !== undefined && existsSync(dirname(socket))) return mkdtempSync(join(dirname(socket), 'demo-state-'));
  const dir = mkdtempSync(join(tmpdir(), 'disnix-demo-'));
  temporaryDirs.add(dir);
  return dir;
}

/** Starts `node dist-dev/demo/disnix-service.js` and resolves once it owns its bus name. */
export async function startDemoDaemon(options: DemoDaemonOptions): Promise<DemoDaemon> {
  const stateDir = options.stateDir ?? newStateDir(options.busAddress);
  const layout = demoLayout(stateDir);
  const args = [...(options.nodeArgs ?? []), demoDaemonScript(), '--bus-address', options.busAddress, '--state-dir', stateDir, ...(options.extraArgs ?? [])];
  const tmpDir = options.tmpDir ?? layout.tmpDir;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmpDir } });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );

  try {
    await new Promise<void>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`demo daemon not ready within ${READY_TIMEOUT_MS} ms: ${stderr}`)), READY_TIMEOUT_MS);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`demo daemon exited (${signal ?? code}) before it was ready: ${stderr.trim()}`));
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        // The ready line comes after the bus name is owned.
        if (stdout.includes(' ready on ')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();

  const signal = async (name: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  // Under jest: stopped when the test file ends, if the test did not stop or kill it.
  const forget = stopAtEnd(() => signal('SIGTERM'));
  void exited.then(forget);
  return {
    stateDir: layout.stateDir,
    logDir: layout.logDir,
    storeDir: layout.storeDir,
    tmpDir,
    pid: child.pid ?? -1,
    exited,
    stderr: () => stderr,
    stop: () => signal('SIGTERM'),
    kill: (name = 'SIGKILL') => signal(name),
  };
}
