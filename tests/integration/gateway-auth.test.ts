import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../server/logging/logger';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { callRaw, postRaw } from '../../testing/raw-soap';
import { basicAuthHeader } from '../../testing/soap-test-client';
import { FIXTURES_DIR } from '../../testing/paths';

/**
 * Who is let in: the users of an htpasswd file written by Apache's htpasswd (re-read when it
 * changes) beside the single user of the environment; refused logins limited per address; and
 * no secret in any log line or answer.
 */
const FIXTURE = join(FIXTURES_DIR, 'htpasswd');
const htpasswdUsers: Record<string, string> = {
  alice: 'alice-secret',
  bob: 'bob secret:with colon',
  carol: 'carol-sécret',
  gül: 'pässwörd',
  dave: 'dave-pw',
  erin: 'erin-pw',
};
const fixtureLine = (user: string) =>
  readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`))!;

let logText = '';
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logText += chunk.toString();
    done();
  },
});

let dir: string;
let htpasswd: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-auth-'));
  htpasswd = join(dir, 'htpasswd');
  copyFileSync(FIXTURE, htpasswd);
});
const env = useGatewayEnvironment(() => ({
  gatewayArgs: ['--htpasswd', htpasswd, '--auth-failure-limit', '4/3s'],
  logger: createLogger({ level: 'debug', json: true, stream: sink }),
}));
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const query = (username: string, password: string, localAddress?: string) =>
  callRaw(env.url, 'queryInstalled', '<ns:profile>auth-test</ns:profile>', { username, password, localAddress });

describe('users of an htpasswd file', () => {
  test.each(Object.entries(htpasswdUsers))('%s is let in with its password (bcrypt $2y$/$2a$/$2b$, $apr1$, {SHA})', async (user, password) => {
    expect((await query(user, password, '127.0.0.10')).status).toBe(200);
  });

  test('the single user of the environment is let in beside them', async () => {
    expect((await query(env.username, env.password, '127.0.0.10')).status).toBe(200);
  });

  test('a changed file takes effect on the next request, without a restart', async () => {
    expect((await query('bob', htpasswdUsers.bob, '127.0.0.11')).status).toBe(200);
    // As htpasswd and editors do: a new file renamed over the old one.
    await writeFile(`${htpasswd}.tmp`, `${fixtureLine('alice')}\n`);
    await rename(`${htpasswd}.tmp`, htpasswd);
    expect((await query('bob', htpasswdUsers.bob, '127.0.0.11')).status).toBe(401);
    expect((await query('alice', htpasswdUsers.alice, '127.0.0.11')).status).toBe(200);
    copyFileSync(FIXTURE, htpasswd);
    expect((await query('bob', htpasswdUsers.bob, '127.0.0.11')).status).toBe(200);
    expect(logText).toMatch(/htpasswd file changed; read again/);
  });
});

describe('refused logins are limited per client address', () => {
  test('after 4 refusals an address gets 429 with Retry-After, even with the right password; other addresses and successes are unaffected', async () => {
    const attacker = '127.0.0.20';
    // Successes never count, however many and however concurrent.
    const many = await Promise.all(Array.from({ length: 40 }, () => query(env.username, env.password, attacker)));
    expect(many.map((r) => r.status)).toEqual(many.map(() => 200));

    for (let i = 0; i < 4; i += 1) expect((await query('alice', `guess-${i}`, attacker)).status).toBe(401);
    const blocked = await query('alice', 'guess-5', attacker);
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    expect(blocked.body).toMatch(/Too many refused logins from this address; try again in \d+ s/);
    expect((await query('alice', htpasswdUsers.alice, attacker)).status).toBe(429);

    // Another address is not blocked, and requests without credentials were never counted.
    expect((await query('alice', htpasswdUsers.alice, '127.0.0.21')).status).toBe(200);

    // Once the window is over, the address may try again.
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 200));
    expect((await query('alice', htpasswdUsers.alice, attacker)).status).toBe(200);
  });

  test('requests without credentials are challenged and never count (clients that wait for the challenge)', async () => {
    const client = '127.0.0.22';
    for (let i = 0; i < 10; i += 1) {
      const response = await postRaw(env.url, '<x/>', { localAddress: client });
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Basic realm="DisnixWebService"');
    }
    expect((await query(env.username, env.password, client)).status).toBe(200);
  });

  test('a malformed Authorization header is refused and counted like a wrong password', async () => {
    const response = await postRaw(env.url, '<x/>', { localAddress: '127.0.0.23', headers: { Authorization: 'Basic !!!not-base64' } });
    expect(response.status).toBe(401);
    expect(response.body).toMatch(/credentials were refused/);
  });
});

describe('credentials never appear in logs or answers', () => {
  test('neither passwords, their encoding, nor names that may be mistyped passwords', async () => {
    logText = '';
    const secrets = ['Sup3r-S3cret-Guess', htpasswdUsers.alice, htpasswdUsers.bob, env.password, 'p4ssw0rd-typed-as-name'];
    const answers = [
      await query('alice', 'Sup3r-S3cret-Guess', '127.0.0.30'),
      await query('p4ssw0rd-typed-as-name', 'x', '127.0.0.30'),
      await query('alice', htpasswdUsers.alice, '127.0.0.31'),
      await query('bob', htpasswdUsers.bob, '127.0.0.31'),
      // A call that fails: its Fault is the job's log, which has no credentials either.
      await callRaw(env.url, 'unlock', '<ns:profile>never-locked</ns:profile>', { username: 'bob', password: htpasswdUsers.bob, localAddress: '127.0.0.31' }),
      await callRaw(env.url, 'selfDestruct', '', { username: env.username, password: env.password, localAddress: '127.0.0.31' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 401, 200, 200, 500, 400]);
    expect(answers[4].faultstring).toMatch(/There is no lock file/);
    await new Promise((resolve) => setTimeout(resolve, 100)); // winston writes asynchronously
    expect(logText).toMatch(/"message":"credentials refused".*"reason":"wrong password".*"user":"alice"|"user":"alice".*"reason":"wrong password"/);
    expect(logText).toMatch(/"reason":"unknown user"/);
    expect(logText).toMatch(/"user":"bob"/); // the call lines name the user let in
    for (const secret of secrets) {
      const encoded = basicAuthHeader('alice', secret).slice(6);
      for (const text of [logText, ...answers.map((a) => a.body + JSON.stringify(a.headers))]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(encoded);
        expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
      }
    }
    expect(logText).not.toMatch(/authorization/i);
  });
});
