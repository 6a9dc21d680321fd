import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonTempFiles } from '../../../../server/operations/daemon-temp-files';
import { recordingLogger } from '../../../../testing/recording-logger';

/**
 * The removal of what disnix-service leaves in its TMPDIR, on real directories. Tests may run as
 * root, who may delete anything; the cases of an unprivileged gateway name its user instead.
 */
const NOBODY = { uid: 65534, gids: [65534] };
let dir: string;
let other: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daemon-tmp-'));
  other = await mkdtemp(join(tmpdir(), 'elsewhere-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(other, { recursive: true, force: true });
});

const own = { uid: process.getuid?.() ?? 0, gids: process.getgroups?.() ?? [] };
const warnings = (logger: ReturnType<typeof recordingLogger>) => logger.records.filter((record) => record.level === 'warn');

test("removes the daemon's disnix.XXXXXX files of its TMPDIR, and only those", async () => {
  const logger = recordingLogger();
  const files = new DaemonTempFiles(dir, logger, own);
  expect(await files.probe()).toBe(true);
  for (const name of ['disnix.aB3xY9', 'disnix.zzzzzz', 'keep-me', 'disnix.toolong1']) await writeFile(join(dir, name), 'x');
  await writeFile(join(other, 'disnix.aB3xY9'), 'x');

  await files.remove(join(dir, 'disnix.aB3xY9'));
  await files.remove(`${dir}//disnix.zzzzzz`); // spelt differently, the same directory
  await files.remove(join(dir, 'keep-me'));
  await files.remove(join(dir, 'disnix.toolong1'));
  await files.remove(join(other, 'disnix.aB3xY9'));
  await files.remove(join(dir, 'sub', '..', '..', 'etc', 'disnix.aB3xY9'));
  await files.remove(join(dir, 'disnix.gone00')); // already gone: nothing to say

  expect((await readdir(dir)).sort()).toEqual(['disnix.toolong1', 'keep-me']);
  expect(await readdir(other)).toEqual(['disnix.aB3xY9']);
  // One line for every file it left alone, not one per call.
  expect(warnings(logger)).toHaveLength(1);
  expect(warnings(logger)[0].message).toMatch(/leaves such files alone; set --daemon-tmpdir/);
});

test('a sticky TMPDIR of another user (the /tmp of a root daemon): one warning at start-up, then files stay and calls say nothing', async () => {
  await chmod(dir, 0o1777);
  const logger = recordingLogger();
  const files = new DaemonTempFiles(dir, logger, NOBODY);
  expect(await files.probe()).toBe(false);
  await writeFile(join(dir, 'disnix.aB3xY9'), 'x');
  for (let i = 0; i < 3; i++) await files.remove(join(dir, 'disnix.aB3xY9'));
  expect(await readdir(dir)).toEqual(['disnix.aB3xY9']);
  expect(warnings(logger)).toHaveLength(1);
  expect(warnings(logger)[0].message).toMatch(/cannot remove .* \(it has the sticky bit, like \/tmp, and belongs to user \d+\).*--daemon-tmpdir/);
});

test('a TMPDIR the gateway may not write in, or that is not there, is told at start-up', async () => {
  await chmod(dir, 0o755);
  const readOnly = recordingLogger();
  expect(await new DaemonTempFiles(dir, readOnly, NOBODY).probe()).toBe(false);
  expect(warnings(readOnly)[0].message).toMatch(/user 65534 may not write in it/);

  // The gateway's group may: the set-up README describes.
  await chmod(dir, 0o770);
  expect(await new DaemonTempFiles(dir, recordingLogger(), { uid: 65534, gids: [(await stat(dir)).gid] }).probe()).toBe(true);

  const absent = recordingLogger();
  expect(await new DaemonTempFiles(join(dir, 'absent'), absent, own).probe()).toBe(false);
  expect(warnings(absent)[0].message).toMatch(/it cannot be examined: ENOENT/);
});

test('a removal that fails anyway is told once, and not tried again', async () => {
  const logger = recordingLogger();
  const files = new DaemonTempFiles(dir, logger, own);
  expect(await files.probe()).toBe(true);
  await mkdir(join(dir, 'disnix.dir000')); // unlink cannot remove a directory, whoever runs it
  await writeFile(join(dir, 'disnix.file00'), 'x');
  await files.remove(join(dir, 'disnix.dir000'));
  await files.remove(join(dir, 'disnix.file00'));
  expect((await readdir(dir)).sort()).toEqual(['disnix.dir000', 'disnix.file00']);
  expect(warnings(logger)).toHaveLength(1);
  expect(warnings(logger)[0].message).toMatch(/removing .*disnix\.dir000 failed: E[A-Z]+/);
});
