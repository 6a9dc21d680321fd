import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fstatSync, openSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type DemoEnv, type DemoLayout, makeDaemonTempFile } from './demo-layout';
import type { JobContext } from './demo-jobs';
import { JobError } from './demo-job-error';
import { isValidPath, readReferences, requisites, storeBasename } from './demo-store';
import { assertEntryName } from './demo-tree';
import { ByteReader } from './demo-stream-reader';

/**
 * Closure files, the demo's `nix-store --export` format, streamed so that store paths of any
 * size move through bounded memory. The file is a sequence of lines of JSON, each maybe
 * followed by raw bytes:
 *
 *   {"format":"disnix-demo-closure/2"}
 *   {"kind":"directory","entry":"<hash>-<name>","path":"","references":["<hash>-<name>",...]}
 *   {"kind":"file","entry":"<hash>-<name>","path":"bin/app","mode":365,"size":N}  + N raw bytes
 *   {"kind":"symlink","entry":"<hash>-<name>","path":"lib/x","target":"..."}
 *   ...
 *   {"kind":"end","records":<count of records above>,"sha256":"<hex of every byte above>"}
 *
 * Store paths are named by entry name (so a closure moves between daemons with different state
 * dirs), each one's root record (path "") first with its references, every directory before
 * its contents, every path after the paths it refers to. Import checks the whole file (record
 * count, SHA-256, nothing after the trailer) in a staging directory inside the store before any
 * path appears in the store.
 */
const FORMAT = 'disnix-demo-closure/2';
const CORRUPT = "error: input doesn't look like something created by 'nix-store --export'";
/** Header lines are small; a longer "line" means the file is not a closure. */
const MAX_LINE = 1024 * 1024;

type Kind = 'file' | 'directory' | 'symlink';

interface RecordHeader {
  kind: Kind;
  entry: string;
  path: string;
  references?: string[];
  mode?: number;
  size?: number;
  target?: string;
}

const line = (value: object): Buffer => Buffer.from(`${JSON.stringify(value)}\n`);

export async function exportClosure(env: DemoEnv, _job: JobContext, paths: readonly string[]): Promise<string> {
  const { layout } = env;
  // Made first, as the real daemon does: a failed export leaves it behind (empty, for an invalid path).
  const file = await makeDaemonTempFile(env);
  const closure = await requisites(layout, paths);
  const hash = createHash('sha256');
  let records = 0;

  async function* stream(): AsyncGenerator<Buffer> {
    const emit = (chunk: Buffer): Buffer => {
      hash.update(chunk);
      return chunk;
    };
    yield emit(line({ format: FORMAT }));
    for (const storePath of closure) {
      const entry = storeBasename(layout, storePath) ?? storePath;
      const references = (await readReferences(layout, storePath)).map((ref) => storeBasename(layout, ref) ?? ref);
      for await (const chunk of walk(storePath, entry, '', references)) yield emit(chunk);
    }
    yield line({ kind: 'end', records, sha256: hash.digest('hex') });
  }

  async function* walk(abs: string, entry: string, path: string, references?: string[]): AsyncGenerator<Buffer> {
    const stat = await lstat(abs);
    const base = { entry, path, ...(references ? { references } : {}) };
    records++;
    if (stat.isSymbolicLink()) {
      yield line({ kind: 'symlink', ...base, target: await readlink(abs) });
    } else if (stat.isDirectory()) {
      yield line({ kind: 'directory', ...base });
      for (const name of (await readdir(abs)).sort()) {
        yield* walk(join(abs, name), entry, path === '' ? name : `${path}/${name}`);
      }
    } else if (stat.isFile()) {
      const size = stat.size;
      yield line({ kind: 'file', ...base, mode: stat.mode & 0o111 ? 0o555 : 0o444, size });
      let sent = 0;
      if (size > 0) {
        for await (const chunk of createReadStream(abs, { start: 0, end: size - 1 }) as AsyncIterable<Buffer>) {
          sent += chunk.length;
          yield chunk;
        }
      }
      if (sent !== size) throw new Error(`'${abs}' changed while being exported`);
    } else {
      throw new Error(`unsupported file type at '${abs}'`);
    }
  }

  // Not removed when this fails, nor when it succeeds: the real daemon leaves both to others.
  await pipeline(stream(), createWriteStream(file, { flags: 'r+' }));
  return file;
}

/**
 * Opens a closure file to import the way the real daemon does, in its main loop before it
 * answers the call: a plain blocking open(O_RDONLY), so that a named pipe without a writer
 * blocks the whole daemon, as it would block disnix-service.
 */
export function openClosureFile(file: string): number {
  try {
    return openSync(file, 'r');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : String(error);
    throw new JobError(`error: opening file '${file}': ${reason}`);
  }
}

/**
 * The stream of what an opened closure holds, which closes `fd` when destroyed or ended (or
 * here, if it cannot be made). A named pipe is read without blocking the event loop, as the real
 * daemon's nix-store child reads it apart from the daemon: a writer that stalls holds up this
 * job only.
 */
export function closureInput(fd: number): Readable {
  try {
    return fstatSync(fd).isFIFO() ? new Socket({ fd, readable: true, writable: false }) : createReadStream('', { fd, autoClose: true });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Imports the closure read from `fd` (see openClosureFile and closureInput), which it closes. */
export async function importClosure(env: DemoEnv, job: JobContext, file: string, fd: number): Promise<string[]> {
  const { layout } = env;
  const input = closureInput(fd);
  // Inside the store dir, so that the final renames stay on one file system; its name (a dot
  // first) is no store path name, so neither listings nor garbage collection see it.
  const staging = join(layout.storeDir, `.import-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(staging);
    let entries: { name: string; references: string[] }[];
    try {
      entries = await unpack(layout, new ByteReader(input), staging);
    } catch (error) {
      if (!(error instanceof CorruptClosure)) throw error;
      job.log(`error: closure file '${file}' is corrupt or truncated: ${error.message}; nothing imported`);
      throw new JobError(CORRUPT);
    }
    const imported: string[] = [];
    for (const { name, references } of entries) {
      const path = join(layout.storeDir, name);
      if (!(await isValidPath(layout, path))) {
        await writeFile(join(layout.dbDir, `${name}.json`), `${JSON.stringify({ references })}\n`);
        // A concurrent job may have added the same (content-addressed) path meanwhile; keep theirs.
        if (!(await isValidPath(layout, path))) await rename(join(staging, name), path);
      }
      job.log(path);
      imported.push(path);
    }
    return imported;
  } finally {
    input.destroy();
    await rm(staging, { recursive: true, force: true });
  }
}

class CorruptClosure extends Error {}

function fail(reason: string): never {
  throw new CorruptClosure(reason);
}

/** Unpacks every store path of the closure under `staging` and verifies the whole file. */
async function unpack(layout: DemoLayout, reader: ByteReader, staging: string): Promise<{ name: string; references: string[] }[]> {
  const hash = createHash('sha256');
  const readHeader = async (): Promise<{ value: Record<string, unknown>; text: Buffer }> => {
    const text = await reader.readLine(MAX_LINE);
    if (text === undefined) return fail('unexpected end of file (or an overlong header)');
    let value: unknown;
    try {
      value = JSON.parse(text.toString('utf8'));
    } catch {
      return fail('malformed record header');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('malformed record header');
    return { value: value as Record<string, unknown>, text };
  };

  const first = await readHeader();
  if (first.value.format !== FORMAT) fail('not a closure file of this format');
  hash.update(first.text);

  const entries: { name: string; references: string[] }[] = [];
  const directories = new Set<string>();
  let records = 0;
  for (;;) {
    const { value, text } = await readHeader();
    if (value.kind === 'end') {
      if (value.records !== records) fail(`trailer counts ${String(value.records)} records, file has ${records}`);
      if (value.sha256 !== hash.digest('hex')) fail('SHA-256 mismatch');
      if (!(await reader.atEnd())) fail('data after the trailer');
      if (entries.length === 0) fail('no store paths');
      return entries;
    }
    hash.update(text);
    records++;
    const header = checkHeader(layout, value);
    const shown = header.path === '' ? header.entry : `${header.entry}/${header.path}`;
    let target: string;
    if (header.path === '') {
      if (entries.some((entry) => entry.name === header.entry)) fail(`store path '${header.entry}' twice`);
      entries.push({ name: header.entry, references: header.references ?? [] });
      target = join(staging, header.entry);
    } else {
      if (entries[entries.length - 1]?.name !== header.entry) fail(`record of '${header.entry}' out of order`);
      const parts = header.path.split('/');
      const parent = parts.slice(0, -1).join('/');
      // Only into directories this closure created: no writing through symlinks or files.
      if (!directories.has(`${header.entry}/${parent}`)) fail(`'${header.path}' outside any directory`);
      target = join(staging, header.entry, ...parts);
    }
    const taken = await lstat(target).then(
      () => true,
      () => false,
    );
    if (taken) fail(`'${shown}' twice`);
    switch (header.kind) {
      case 'directory':
        await mkdir(target);
        directories.add(`${header.entry}/${header.path}`);
        break;
      case 'symlink':
        await symlink(header.target as string, target);
        break;
      case 'file': {
        const size = header.size as number;
        const counted = async function* (): AsyncGenerator<Buffer> {
          let got = 0;
          for await (const chunk of reader.readExact(size)) {
            hash.update(chunk);
            got += chunk.length;
            yield chunk;
          }
          if (got !== size) fail(`'${shown}' cut short: ${got} of ${size} bytes`);
        };
        await pipeline(counted(), createWriteStream(target, { flags: 'wx', mode: 0o600 }));
        await chmod(target, header.mode !== undefined && header.mode & 0o111 ? 0o555 : 0o444);
        break;
      }
    }
  }
}

function checkHeader(layout: DemoLayout, value: Record<string, unknown>): RecordHeader {
  const isName = (name: unknown): name is string => typeof name === 'string' && storeBasename(layout, join(layout.storeDir, name)) === name;
  const { kind, entry, path } = value;
  if (kind !== 'file' && kind !== 'directory' && kind !== 'symlink') return fail(`unknown record kind '${String(kind)}'`);
  if (!isName(entry)) {
    return fail(`invalid store path name '${String(entry)}'`);
  }
  if (typeof path !== 'string') return fail('record without a path');
  if (path !== '') {
    try {
      path.split('/').forEach(assertEntryName);
    } catch {
      return fail(`invalid path '${path}'`);
    }
  }
  const header: RecordHeader = { kind, entry, path };
  if (path === '') {
    const refs = value.references ?? [];
    if (!Array.isArray(refs)) return fail('references not a list');
    for (const ref of refs) {
      if (!isName(ref)) {
        return fail(`invalid reference '${String(ref)}'`);
      }
    }
    header.references = refs as string[];
  }
  if (kind === 'file') {
    if (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0) return fail('bad file size');
    if (value.mode !== undefined && (typeof value.mode !== 'number' || !Number.isInteger(value.mode))) return fail('bad mode');
    header.size = value.size;
    header.mode = value.mode as number | undefined;
  }
  if (kind === 'symlink') {
    if (typeof value.target !== 'string' || value.target === '' || value.target.includes('\0')) return fail('bad symlink target');
    header.target = value.target;
  }
  return header;
}
