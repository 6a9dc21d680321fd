/**
 * Snapshot trees through the gateway's transfer path: a nested, multi-file snapshot goes up
 * (MTOM and inline) and comes back file by file at its relative paths; uploads with paths that
 * could leave their tree, and downloads of anything but a snapshot in the snapshot store, are
 * refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { demoLayout } from '../../demo/demo-layout';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { expectEmptySoon } from '../../testing/upload-dir';
import {
  type Parts,
  type WireAnswer,
  type WireRequest,
  faultOf,
  inlineRequest,
  mtomRequest,
  post,
  returnsOf,
  sha256,
  splitAnswer,
} from '../../testing/transfer-wire';

let uploadDir: string;
let outside: string;
let snapshotsDir: string;

beforeAll(async () => {
  uploadDir = await mkdtemp(join(tmpdir(), 'snapshot-uploads-'));
  outside = await mkdtemp(join(tmpdir(), 'not-a-snapshot-'));
  await writeFile(join(outside, 'secret'), 'must never be served');
}, 60_000);
const env = useGatewayEnvironment(() => ({ gatewayArgs: ['--upload-dir', uploadDir] }));
beforeAll(() => {
  snapshotsDir = demoLayout(env.daemon.stateDir).snapshotsDir;
});
afterAll(async () => {
  for (const dir of [uploadDir, outside]) if (dir) await rm(dir, { recursive: true, force: true });
});

const call = (request: WireRequest, headers: Record<string, string> = {}) =>
  post(env.url, { username: env.username, password: env.password }, request, headers);
const forms = { mtom: mtomRequest, inline: inlineRequest } as const;

function expectOk(answer: WireAnswer): void {
  if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${faultOf(answer) ?? answer.body.toString().slice(0, 300)}`);
}

/** A nested snapshot: several directories deep, an empty file, a large one, awkward names. */
const TREE: Readonly<Record<string, Buffer>> = {
  'dump.sql': Buffer.from('CREATE TABLE t (x int);\n'),
  'conf/settings.ini': Buffer.from('[main]\nkey=value\n'),
  'conf/deep/er/blob.bin': randomBytes(2 * 1024 * 1024 + 17),
  empty: Buffer.alloc(0),
  'name with spaces & ünïcode <x>.txt': Buffer.from('odd name'),
};

/** Digests by path: jest compares large Buffers byte by byte, very slowly. */
const digests = (tree: Readonly<Record<string, Buffer>>) => Object.fromEntries(Object.entries(tree).map(([path, data]) => [path, sha256(data)]));

function snapshotParts(container: string, component: string, name: string, tree: Readonly<Record<string, Buffer>>, paths = Object.keys(tree)): Parts {
  return [
    ['container', container],
    ['component', component],
    ['snapshot', name],
    ...Object.values(tree).map((content) => ['content', content] as const),
    ...paths.map((path) => ['path', path] as const),
  ];
}

async function readTree(dir: string, prefix = ''): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(files, await readTree(join(dir, entry.name), relative));
    else files[relative] = await readFile(join(dir, entry.name));
  }
  return files;
}

describe.each(['mtom', 'inline'] as const)('a nested multi-file snapshot, %s', (form) => {
  const name = `snap-${form}`;
  const relative = `pg/orders/${name}`;

  it('goes up with every file at its relative path', async () => {
    expectOk(await call(forms[form]('importLocalSnapshots', snapshotParts('pg', 'orders', name, TREE))));
    expect(digests(await readTree(join(snapshotsDir, relative)))).toEqual(digests(TREE));
    await expectEmptySoon(uploadDir);
    const latest = await call(
      inlineRequest('queryAllSnapshots', [
        ['container', 'pg'],
        ['component', 'orders'],
      ]),
    );
    expect(returnsOf(latest, false)).toContain(relative);
  });

  it('lists its files and comes back file by file, by relative or by resolved path', async () => {
    const listing = await call(forms[form]('exportRemoteSnapshotPaths', [['snapshot', relative]]));
    expectOk(listing);
    const paths = returnsOf(listing, false) as string[];
    expect(paths).toEqual(Object.keys(TREE).sort());
    const [absolute] = returnsOf(await call(inlineRequest('resolveSnapshots', [['snapshots', relative]])), false) as string[];
    for (const snapshot of [relative, absolute]) {
      const download = await call(forms[form]('exportRemoteSnapshots', [['snapshot', snapshot]]), form === 'mtom' ? { Accept: 'multipart/related' } : {});
      expectOk(download);
      const contents = returnsOf(download, true) as Buffer[];
      expect(digests(Object.fromEntries(paths.map((path, i) => [path, contents[i]])))).toEqual(digests(TREE));
      if (form === 'mtom') expect([...splitAnswer(download).locations.values()].map(decodeURI)).toEqual(paths);
    }
  });
});

describe('uploads whose paths could leave the snapshot are refused', () => {
  it.each([
    [['../escaped'], /leads outside its tree/],
    [['/etc/cron.d/evil'], /is absolute/],
    [['a/../../escaped'], /leads outside its tree/],
    [['./a'], /empty or "\." segment/],
    [['a//b'], /empty or "\." segment/],
    [['same', 'same'], /"same" is given twice/],
    [['a', 'a/b'], /"a" is both a file and the directory of "a\/b"/],
  ])('%j', async (paths, message) => {
    const tree = Object.fromEntries(paths.map((_path, i) => [`f${i}`, Buffer.from(`content ${i}`)]));
    const answer = await call(mtomRequest('importLocalSnapshots', snapshotParts('pg', 'refused', 'snap', tree, paths)));
    expect(answer.status).toBe(500);
    expect(faultOf(answer)).toMatch(message);
    expect(await readdir(join(snapshotsDir, 'pg')).catch(() => [])).not.toContain('refused');
    await expectEmptySoon(uploadDir);
  });

  it.each([['../up'], ['a/b'], ['..']])('snapshot name %j', async (name) => {
    const answer = await call(mtomRequest('importLocalSnapshots', snapshotParts('pg', 'refused', name, { f: Buffer.from('x') })));
    expect(faultOf(answer)).toMatch(/the snapshot name/);
  });

  it('contents without paths', async () => {
    const answer = await call(mtomRequest('importLocalSnapshots', snapshotParts('pg', 'refused', 'snap', { f: Buffer.from('x') }, [])));
    expect(faultOf(answer)).toMatch(/1 file contents but 0 paths/);
  });
});

describe('only snapshots in the snapshot store are served', () => {
  beforeAll(async () => {
    const component = join(snapshotsDir, 'web', 'site');
    await mkdir(join(component, 'with-link-out'), { recursive: true });
    await symlink(join(outside, 'secret'), join(component, 'with-link-out', 'innocent'));
    await mkdir(join(component, 'with-link-in', 'data'), { recursive: true });
    await writeFile(join(component, 'with-link-in', 'data', 'real'), 'served through its link');
    await symlink('data/real', join(component, 'with-link-in', 'alias'));
    await symlink(outside, join(component, 'is-a-link-out'));
  });

  it('a link inside a snapshot to a file of the same snapshot is served as that file', async () => {
    const answer = await call(inlineRequest('exportRemoteSnapshots', [['snapshot', 'web/site/with-link-in']]));
    expectOk(answer);
    expect((returnsOf(answer, true) as Buffer[]).map(String)).toEqual(['served through its link', 'served through its link']);
  });

  it.each([
    ['../../../etc', /leads outside its tree/],
    ['/etc', /is not in the snapshot store of the target/],
    ['web/site/is-a-link-out', /leads outside the snapshot store of the target/],
    ['web/site/with-link-out', /link innocent leads outside the snapshot/],
    ['web/site/never-taken', /is not a snapshot of the target/],
  ])('%s', async (snapshot, message) => {
    for (const operation of ['exportRemoteSnapshots', 'exportRemoteSnapshotPaths']) {
      const answer = await call(inlineRequest(operation, [['snapshot', snapshot]]));
      expect(answer.status).toBe(500);
      expect(faultOf(answer)).toMatch(message);
      expect(answer.body.toString()).not.toContain('must never be served');
    }
  });

  it('an absolute path that climbs out of the store with .. is refused', async () => {
    const answer = await call(inlineRequest('exportRemoteSnapshots', [['snapshot', `${snapshotsDir}/web/../../../${dirname(outside)}`]]));
    expect(faultOf(answer)).toMatch(/has \. or \.\. segments/);
  });
});
