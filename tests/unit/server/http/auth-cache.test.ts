import { mkdtempSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import type { AuthConfig } from '../../../../server/config/config';
import { AuthCache } from '../../../../server/http/auth-cache';
import { createBasicAuth } from '../../../../server/http/basic-auth';
import { silentLogger } from '../../../../server/logging/logger';
import { FIXTURES_DIR } from '../../../../testing/paths';

/**
 * Accepted credentials are remembered so that a coordinator's every call does not pay for a
 * bcrypt run; what is remembered must never let in anyone the htpasswd file or the password
 * would not let in now.
 */
const FIXTURE = join(FIXTURES_DIR, 'htpasswd');
const fixtureLine = (user: string) =>
  readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`))!;
const ALICE = 'alice-secret';
const BOB = 'bob secret:with colon';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the cache itself', () => {
  test('forgets entries after their time to live', async () => {
    const cache = new AuthCache({ ttlMs: 20 });
    const key = cache.keyOf(basic('a', 'b'));
    cache.remember(key, { user: 'a' });
    expect(cache.get(key)).toEqual({ user: 'a' });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(cache.get(key)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('holds at most maxEntries, the oldest going first', () => {
    const cache = new AuthCache({ maxEntries: 2 });
    const keys = ['one', 'two', 'three'].map((user) => cache.keyOf(basic(user, 'pw')));
    for (const [index, key] of keys.entries()) cache.remember(key, { user: String(index) });
    expect(cache.size).toBe(2);
    expect(cache.get(keys[0])).toBeUndefined();
    expect(cache.get(keys[2])).toEqual({ user: '2' });
  });

  test('keys are keyed digests: they hold neither the password nor the header, and differ between processes', () => {
    const header = basic('alice', ALICE);
    const key = new AuthCache().keyOf(header);
    expect(key).not.toContain(ALICE);
    expect(key).not.toContain(header.slice(6));
    expect(key).not.toEqual(new AuthCache().keyOf(header));
  });
});

describe('basic auth with the cache', () => {
  let dir: string;
  let path: string;
  let cache: AuthCache;
  let app: express.Express;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auth-cache-'));
    path = join(dir, 'htpasswd');
    await writeFile(path, `${fixtureLine('alice')}\n${fixtureLine('bob')}\n`);
    cache = new AuthCache();
    const auth: AuthConfig = { mode: 'users', users: { admin: 'admin-pw' }, htpasswdFile: path };
    app = express();
    // No failure limit here: these tests send more wrong passwords than the default allows.
    app.use(createBasicAuth(auth, undefined, { logger: silentLogger, cache, failureLimit: { count: 0, windowMs: 60_000 } })!);
    app.get('/', (req, res) => {
      res.send((req as express.Request & { auth?: { user: string } }).auth?.user);
    });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const get = (authorization: string) => request(app).get('/').set('Authorization', authorization);

  test('accepted credentials are remembered and keep working', async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await get(basic('alice', ALICE));
      expect(answer.status).toBe(200);
      expect(answer.text).toBe('alice');
    }
    expect((await get(basic('admin', 'admin-pw'))).text).toBe('admin');
    expect(cache.size).toBe(2);
  });

  test('a wrong password or an unknown user is never remembered, however often it is sent', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await get(basic('alice', `${ALICE}x`))).status).toBe(401);
      expect((await get(basic('mallory', ALICE))).status).toBe(401);
      expect((await get(basic('admin', 'wrong'))).status).toBe(401);
    }
    expect(cache.size).toBe(0);
  });

  test('many requests with the same credentials at once: each is answered on its own, right or wrong', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(i % 2 === 0 ? basic('alice', ALICE) : basic('alice', 'wrong'))));
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 200 : 401)));
    expect(cache.size).toBe(1);
  });

  test('a remembered user of the file is refused once the file no longer lets it in', async () => {
    expect((await get(basic('alice', ALICE))).status).toBe(200);
    expect((await get(basic('bob', BOB))).status).toBe(200);
    // As htpasswd and editors do: a new file renamed over the old one, without alice.
    await writeFile(`${path}.new`, `${fixtureLine('bob')}\n`);
    await rename(`${path}.new`, path);
    expect((await get(basic('alice', ALICE))).status).toBe(401);
    expect((await get(basic('bob', BOB))).status).toBe(200);
  });

  test('a remembered user of the file is refused when its password changes in place', async () => {
    expect((await get(basic('alice', ALICE))).status).toBe(200);
    // alice now has bob's hash, so her old password no longer matches.
    await writeFile(path, `${fixtureLine('bob').replace(/^bob/, 'alice')}\n`);
    expect((await get(basic('alice', ALICE))).status).toBe(401);
    expect((await get(basic('alice', BOB))).status).toBe(200);
  });

  test('remembered users of the file are refused while the file is missing, and let in again once it is back', async () => {
    expect((await get(basic('alice', ALICE))).status).toBe(200);
    await rm(path);
    expect((await get(basic('alice', ALICE))).status).toBe(401);
    expect((await get(basic('admin', 'admin-pw'))).status).toBe(200);
    await writeFile(path, `${fixtureLine('alice')}\n`);
    expect((await get(basic('alice', ALICE))).status).toBe(200);
  });
});
