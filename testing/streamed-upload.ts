import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as dbus from 'dbus-next';
import { exportClosure } from '../demo/demo-closure';
import { createEnv, demoLayout, ensureLayout } from '../demo/demo-layout';
import { DISNIX_BUS_NAME, DISNIX_INTERFACE, DISNIX_OBJECT_PATH } from '../server/dbus/disnix-interface';
import { addStorePath } from './demo-store';
import { bytesUnder } from './upload-dir';

/**
 * What tests of importLocalFile look at while a closure is imported as it arrives (the gateway
 * pipes it into the daemon's import job, see server/operations/streamed-import.ts): closures of
 * store paths a target does not hold yet, the import jobs a call started, the demo daemon's
 * staging directory, and whether the daemon still answers.
 */

/** What the demo's import logs when its closure ends short (demo/demo-closure.ts). */
export const TRUNCATED_IMPORT =
  /is corrupt or truncated: [^\n]*; nothing imported\nerror: input doesn't look like something created by 'nix-store --export'\n$/;

/**
 * What the demo's import logs when the call ended before the daemon opened its pipe: the gateway
 * removed the pipe's name first (server/operations/streamed-import.ts), so the open fails at once.
 */
export const PIPE_GONE_IMPORT = /\nerror: opening file '[^']*': No such file or directory\n$/;

export interface NewClosure {
  /** The closure file's bytes, as the demo's export writes them. */
  readonly closure: Buffer;
  /** The store path's name (`<hash>-<name>`), which importing the closure adds. */
  readonly entry: string;
}

/**
 * A closure of one store path made in a store of its own (then removed), so that a target
 * holds none of it until it is imported: the demo's own export, as in testing/axis2-scenario.
 */
export async function closureOfNewPath(name: string, content: string | Buffer | Readonly<Record<string, string | Buffer>>): Promise<NewClosure> {
  const sourceDir = await mkdtemp(join(tmpdir(), 'closure-source-'));
  try {
    const layout = demoLayout(sourceDir);
    await ensureLayout(layout);
    const path = await addStorePath(sourceDir, name, content);
    const file = await exportClosure(createEnv(layout), { pid: 0, log: () => undefined }, [path]);
    return { closure: await readFile(file), entry: basename(path) };
  } finally {
    await rm(sourceDir, { recursive: true, force: true });
  }
}

export interface ImportJob {
  readonly pid: number;
  readonly log: string;
}

/** Import jobs the daemon ran on paths under `uploadDir` (their logs start with `Importing: <path>`), oldest first. */
export async function importJobsOn(logDir: string, uploadDir: string): Promise<ImportJob[]> {
  const names = (await readdir(logDir)).filter((name) => /^\d+$/.test(name));
  const jobs = await Promise.all(names.map(async (name) => ({ pid: Number(name), log: await readFile(join(logDir, name), 'utf8').catch(() => '') })));
  return jobs.filter((job) => job.log.startsWith(`Importing: ${uploadDir}/`)).sort((a, b) => a.pid - b.pid);
}

/** Bytes the demo daemon's imports under way have unpacked so far: files under `<storeDir>/.import-*`. */
export async function stagingBytes(storeDir: string): Promise<number> {
  let total = 0;
  for (const name of await stagingDirs(storeDir)) total += await bytesUnder(join(storeDir, name));
  return total;
}

/** The demo daemon's staging directories of imports under way (removed when an import ends, whatever its outcome). */
export async function stagingDirs(storeDir: string): Promise<string[]> {
  return (await readdir(storeDir)).filter((name) => name.startsWith('.import-'));
}

/**
 * Polls `probe` every 25 ms until it answers something other than undefined or false, and
 * answers that; fails naming `what` after `timeoutMs`.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms in vain for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Calls get_logdir of org.nixos.disnix.Disnix on its own bus connection and answers the
 * directory; rejects when the daemon does not answer within `timeoutMs` (it is blocked, e.g.
 * on an open(2) of a pipe nobody writes to: the demo, like disnix-service, opens an import's
 * closure in its main loop).
 */
export async function daemonLogDir(busAddress: string, timeoutMs = 3000): Promise<string> {
  const bus = dbus.sessionBus({ busAddress });
  bus.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    const call = bus.call(new dbus.Message({ destination: DISNIX_BUS_NAME, path: DISNIX_OBJECT_PATH, interface: DISNIX_INTERFACE, member: 'get_logdir' }));
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`disnix-service did not answer get_logdir within ${timeoutMs} ms`)), timeoutMs);
    });
    const reply = await Promise.race([call, late]);
    return reply?.body[0] as string;
  } finally {
    clearTimeout(timer);
    bus.disconnect();
  }
}
