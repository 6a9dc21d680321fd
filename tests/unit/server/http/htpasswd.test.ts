import { mkdtempSync, readFileSync } from 'node:fs';
import { chmod, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayConfig } from '../../../../server/config/config';
import { parseHtpasswd } from '../../../../server/config/htpasswd';
import { usageText } from '../../../../server/config/usage';
import { HtpasswdFile } from '../../../../server/http/htpasswd-file';
import { sameSecret, verifyPassword } from '../../../../server/http/htpasswd';
import type { Logger } from '../../../../server/logging/logger';
import { configFrom, configProblems } from '../../../../testing/config-helpers';
import { FIXTURES_DIR } from '../../../../testing/paths';

/** The htpasswd formats, checked against entries written by Apache's own htpasswd tool. */
const FIXTURE = join(FIXTURES_DIR, 'htpasswd');
const UNSUPPORTED = join(FIXTURES_DIR, 'htpasswd-unsupported');

const passwords: Record<string, string> = {
  alice: 'alice-secret', // htpasswd -B: $2y$, cost 5
  bcrypt10: 'ten rounds', // htpasswd -B -C 10
  bob: 'bob secret:with colon', // htpasswd -m: $apr1$
  carol: 'carol-sécret', // htpasswd -s: {SHA}, non-ASCII
  gül: 'pässwörd', // $apr1$ with UTF-8 name and password
  dave: 'dave-pw', // $2b$ (bcryptjs)
  erin: 'erin-pw', // $2a$
};

describe('htpasswd entries', () => {
  const { users, problems } = parseHtpasswd(readFileSync(FIXTURE, 'utf8'));

  test('every entry of the file is read, comments skipped', () => {
    expect(problems).toEqual([]);
    expect([...users.keys()].sort()).toEqual(Object.keys(passwords).sort());
    expect(new Set([...users.values()].map((e) => e.kind))).toEqual(new Set(['bcrypt', 'apr1', 'sha1']));
  });

  test.each(Object.entries(passwords))('%s: the right password is accepted, near misses are not', async (user, password) => {
    const entry = users.get(user)!;
    expect(await verifyPassword(entry, password)).toBe(true);
    for (const wrong of ['', password.slice(0, -1), `${password} `, password.toUpperCase(), 'x'.repeat(200)]) {
      if (wrong !== password) expect(await verifyPassword(entry, wrong)).toBe(false);
    }
  });

  test('unsupported and malformed lines are named by line and user, never by their hash', () => {
    const text = readFileSync(UNSUPPORTED, 'utf8');
    const parsed = parseHtpasswd(text);
    expect(parsed.users.size).toBe(0);
    expect(parsed.problems).toEqual([
      expect.stringMatching(/^line 2 \(user "des"\): DES crypt .*not supported; create the entry again with htpasswd -B$/),
      expect.stringMatching(/^line 3 \(user "plain"\): the hash is not bcrypt/),
      expect.stringMatching(/^line 4 \(user "sha256"\): SHA-256 crypt/),
      expect.stringMatching(/^line 5 \(user "sha512"\): SHA-512 crypt/),
      'line 6 is not "user:hash"',
      expect.stringMatching(/^line 7 \(user "slow"\): bcrypt cost 31 is outside 4-17/),
    ]);
    for (const line of text.split('\n').slice(1)) {
      const hash = line.split(':')[1];
      if (hash && hash.length > 3) expect(parsed.problems.join('\n')).not.toContain(hash);
    }
  });

  test('a repeated user keeps its first entry, as Apache does', () => {
    const parsed = parseHtpasswd('a:{SHA}i6aXXgMZecbYeqnhYcAwp3E1vZI=\na:{SHA}2jmj7l5rSw0yVb/vlWAYkK/YBwk=\n');
    expect(parsed.users.get('a')?.hash).toBe('{SHA}i6aXXgMZecbYeqnhYcAwp3E1vZI=');
    expect(parsed.problems).toEqual([expect.stringMatching(/line 2: user "a" appears again/)]);
  });

  test('passwords and digests are compared with crypto.timingSafeEqual, never with ===', async () => {
    // The module object itself, as the code under test reaches it (an import would be a copy).
    const spy = jest.spyOn(require('node:crypto') as typeof import('node:crypto'), 'timingSafeEqual');
    try {
      await verifyPassword(users.get('carol')!, 'wrong');
      await verifyPassword(users.get('bob')!, 'wrong');
      sameSecret('a', 'b');
      expect(spy).toHaveBeenCalledTimes(3);
    } finally {
      spy.mockRestore();
    }
  });

  test('secrets are compared whatever their lengths', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(sameSecret('', '')).toBe(true);
  });
});

describe('an htpasswd file that changes while the gateway runs', () => {
  let dir: string;
  let path: string;
  let lines: string[];
  const logged: string[] = [];
  const logger: Logger = {
    error: (m) => logged.push(`error ${m}`),
    warn: (m) => logged.push(`warn ${m}`),
    info: (m) => logged.push(`info ${m}`),
    debug: () => undefined,
  };
  const fixtureLine = (user: string) =>
    readFileSync(FIXTURE, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${user}:`))!;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'htpasswd-'));
    path = join(dir, 'users');
    lines = [fixtureLine('alice')];
    await writeFile(path, `${lines.join('\n')}\n`);
    logged.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test('is read again when an editor renames a new file over it', async () => {
    const file = new HtpasswdFile(path, logger);
    expect(await file.lookup('alice')).toBeDefined();
    expect(await file.lookup('bob')).toBeUndefined();
    await writeFile(join(dir, 'users.new'), `${fixtureLine('bob')}\n`);
    await rename(join(dir, 'users.new'), path);
    expect(await file.lookup('bob')).toBeDefined();
    expect(await file.lookup('alice')).toBeUndefined();
    expect(logged).toContain('info htpasswd file changed; read again');
  });

  test('is read again when it is rewritten in place, even with the same size', async () => {
    const file = new HtpasswdFile(path, logger);
    expect(await file.lookup('alice')).toBeDefined();
    await writeFile(path, `${fixtureLine('alice').replace(/^alice/, 'alicf')}\n`);
    expect(await file.lookup('alicf')).toBeDefined();
    expect(await file.lookup('alice')).toBeUndefined();
  });

  test('lets nobody in while it is missing or unreadable, and everyone again once it is back', async () => {
    const file = new HtpasswdFile(path, logger);
    expect(await file.lookup('alice')).toBeDefined();
    await rm(path);
    expect(await file.lookup('alice')).toBeUndefined();
    expect(await file.lookup('alice')).toBeUndefined();
    expect(logged.filter((l) => l.startsWith('error'))).toEqual([expect.stringMatching(/cannot be read \(ENOENT\): no user of it is let in/)]);
    await writeFile(path, `${fixtureLine('alice')}\n`);
    expect(await file.lookup('alice')).toBeDefined();
    if (process.getuid?.() !== 0) {
      await chmod(path, 0o000);
      await writeFile(join(dir, 'touch'), '');
      expect(await file.lookup('alice')).toBeUndefined();
    }
  });

  test('skips a bad line with a warning and keeps the good ones', async () => {
    const file = new HtpasswdFile(path, logger);
    await writeFile(path, `garbage line\n${fixtureLine('carol')}\n`);
    expect(await file.lookup('carol')).toBeDefined();
    expect(logged).toContain(`warn htpasswd ${path}: line 1 is not "user:hash" (skipped)`);
  });

  test('many concurrent look-ups share one read', async () => {
    const file = new HtpasswdFile(path, logger);
    const found = await Promise.all(Array.from({ length: 200 }, () => file.lookup('alice')));
    expect(found.every((entry) => entry?.kind === 'bcrypt')).toBe(true);
    expect(logged.filter((l) => l.includes('htpasswd file read'))).toHaveLength(1);
  });
});

describe('configuration of authentication, the failure limit and the shutdown grace', () => {
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}): GatewayConfig => configFrom(argv, env);
  const problems = (argv: string[], env: NodeJS.ProcessEnv = {}): readonly string[] => configProblems(argv, env);
  const single = { DISNIX_WEBSERVICE_USERNAME: 'admin', DISNIX_WEBSERVICE_PASSWORD: 'pw' };

  test('--htpasswd alone is enough; with the single user both are kept; the variable works too', () => {
    expect(run(['--htpasswd', FIXTURE]).auth).toEqual({ mode: 'users', users: {}, htpasswdFile: FIXTURE });
    expect(run(['--htpasswd', FIXTURE], single).auth).toEqual({ mode: 'users', users: { admin: 'pw' }, htpasswdFile: FIXTURE });
    expect(run([], { DISNIX_WEBSERVICE_HTPASSWD: FIXTURE }).auth).toMatchObject({ htpasswdFile: FIXTURE });
  });

  test('an unreadable or unsupported file, half a single user, or --no-auth with it: all reported at once', () => {
    expect(problems(['--htpasswd', '/no/such/file'])).toEqual(['htpasswd file /no/such/file cannot be read: ENOENT']);
    expect(problems(['--htpasswd', UNSUPPORTED, '--auth-failure-limit', 'many'], { DISNIX_WEBSERVICE_USERNAME: 'admin' })).toEqual([
      ...Array.from({ length: 6 }, () => expect.stringMatching(/^htpasswd file .*htpasswd-unsupported: line \d/)),
      expect.stringMatching(/go together; give both or, with --htpasswd, neither/),
      'auth-failure-limit "many" is not COUNT/DURATION such as 10/5m (or 0 for no limit)',
    ]);
    expect(problems(['--no-auth', '--host', '127.0.0.1', '--htpasswd', FIXTURE])).toEqual(['--no-auth and --htpasswd exclude each other']);
  });

  test('--auth-failure-limit COUNT/DURATION, 0 for none; default 10 per 5 minutes', () => {
    expect(run([], single).authFailureLimit).toEqual({ count: 10, windowMs: 300_000 });
    expect(run(['--auth-failure-limit', '3/90s'], single).authFailureLimit).toEqual({ count: 3, windowMs: 90_000 });
    expect(run([], { ...single, DISNIX_WEBSERVICE_AUTH_FAILURE_LIMIT: '0' }).authFailureLimit.count).toBe(0);
    expect(problems(['--auth-failure-limit', '0/1m'], single)).toEqual([expect.stringMatching(/is not COUNT\/DURATION/)]);
  });

  test('--shutdown-grace takes a duration or 0; default 30 s', () => {
    expect(run([], single).shutdownGraceMs).toBe(30_000);
    expect(run(['--shutdown-grace', '2m'], single).shutdownGraceMs).toBe(120_000);
    expect(run(['--shutdown-grace', '0'], single).shutdownGraceMs).toBe(0);
    expect(run([], { ...single, DISNIX_WEBSERVICE_SHUTDOWN_GRACE: '5s' }).shutdownGraceMs).toBe(5_000);
    expect(problems(['--shutdown-grace', 'soon'], single)).toEqual(['shutdown-grace "soon" is not a duration such as 30s, 2m or 0']);
  });

  test('--help names the new settings and their variables', () => {
    const text = usageText();
    for (const word of [
      '--htpasswd FILE',
      'DISNIX_WEBSERVICE_HTPASSWD',
      '--auth-failure-limit',
      'DISNIX_WEBSERVICE_AUTH_FAILURE_LIMIT',
      '--shutdown-grace',
      'DISNIX_WEBSERVICE_SHUTDOWN_GRACE',
    ]) {
      expect(text).toContain(word);
    }
  });
});
