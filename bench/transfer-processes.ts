import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { once } from 'node:events';

/**
 * The processes the transfer benchmark measures, each a child of its own so that its peak
 * memory is its own: wall time from spawn to exit, and the peak RSS that the preload
 * (peak-rss-preload.js) writes at exit.
 */
const PRELOAD = join(__dirname, 'peak-rss-preload.js');
let counter = 0;

export interface Finished {
  readonly seconds: number;
  readonly peakRssMiB: number | undefined;
  readonly stdout: string;
}

export function nodeArgs(script: string, args: readonly string[]): string[] {
  return ['-r', PRELOAD, script, ...args];
}

/** Runs a command to its end; a Node script given with nodeArgs() also reports its peak RSS. */
export async function runMeasured(command: string, args: readonly string[], env: NodeJS.ProcessEnv, scratch: string): Promise<Finished> {
  const rssFile = join(scratch, `rss-${process.pid}-${counter++}`);
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { env: { ...env, BENCH_PEAK_RSS_FILE: rssFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`${[command, ...args].join(' ')} failed (${code}): ${stderr.trim()}`);
  return { seconds, peakRssMiB: await readPeak(rssFile), stdout };
}

export interface Service {
  readonly process: ChildProcess;
  /** SIGTERM; resolves with the service's peak RSS once it has exited. */
  stop(): Promise<number | undefined>;
}

/** Starts a long-running process and resolves once `ready` says it serves. */
export async function startService(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  scratch: string,
  ready: (child: ChildProcess) => Promise<void>,
): Promise<Service> {
  const rssFile = join(scratch, `rss-${process.pid}-${counter++}`);
  const child = spawn(command, args, { env: { ...env, BENCH_PEAK_RSS_FILE: rssFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  child.stdout?.resume();
  // Killed with the bench if it ends first; the listener goes with the child, not to pile up.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const exited = once(child, 'exit');
  try {
    await Promise.race([ready(child), exited.then(() => Promise.reject(new Error(`${command} ${args.join(' ')} exited: ${stderr.trim()}`)))]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      return readPeak(rssFile);
    },
  };
}

/** Resolves when the child prints `line` on stdout. */
export function printed(line: string): (child: ChildProcess) => Promise<void> {
  return (child) =>
    new Promise((resolve) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes(line)) resolve();
      });
    });
}

/** Resolves once GET `url` answers 200. */
export function httpReady(url: string, authorization: string): (child: ChildProcess) => Promise<void> {
  return async () => {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const status = await new Promise<number>((resolve) => {
        get(url, { headers: { Authorization: authorization }, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', () => resolve(0));
      });
      if (status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${url} did not answer within 20 s`);
  };
}

async function readPeak(file: string): Promise<number | undefined> {
  const kib = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  await rm(file, { force: true });
  return kib > 0 ? Math.round((kib / 1024) * 10) / 10 : undefined;
}

/** A payload of `bytes` bytes: a random block repeated (nothing on the way compresses). */
export async function writePayload(path: string, bytes: number): Promise<void> {
  const block = randomBytes(16 * 1024 * 1024);
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; ) {
    const piece = block.subarray(0, Math.min(block.length, bytes - written));
    written += piece.length;
    if (!out.write(piece)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

export async function digest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
