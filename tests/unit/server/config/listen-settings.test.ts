import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayConfig } from '../../../../server/config/config';
import { trustFunction } from '../../../../server/config/trusted-proxies';
import { createCertificate } from '../../../../testing/tls-files';
import { configFrom, configProblems } from '../../../../testing/config-helpers';

/** The settings of issue 5: unix socket, TLS, trusted proxies, and --no-auth with them. */
const credentials = { DISNIX_WEBSERVICE_USERNAME: 'admin', DISNIX_WEBSERVICE_PASSWORD: 'pw' };
const dir = mkdtempSync(join(tmpdir(), 'config-listen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (argv: string[], env: NodeJS.ProcessEnv = credentials): GatewayConfig => configFrom(argv, env);
const problems = (argv: string[], env: NodeJS.ProcessEnv = credentials): readonly string[] => configProblems(argv, env);

describe('--listen-socket and --socket-mode', () => {
  test('a socket with the default mode 0660, from the flag or DISNIX_WEBSERVICE_SOCKET', () => {
    expect(run(['--listen-socket', '/run/dw/gateway.sock']).socket).toEqual({ path: '/run/dw/gateway.sock', mode: 0o660 });
    const env = { ...credentials, DISNIX_WEBSERVICE_SOCKET: '/run/dw/env.sock', DISNIX_WEBSERVICE_SOCKET_MODE: '600' };
    expect(run([], env).socket).toEqual({ path: '/run/dw/env.sock', mode: 0o600 });
    expect(run([]).socket).toBeUndefined();
  });

  test('--no-auth is allowed on a socket: only this machine reaches it', () => {
    expect(run(['--no-auth', '--listen-socket', '/run/dw/gateway.sock'], {}).auth).toEqual({ mode: 'none' });
  });

  test('--no-auth on a socket every local user may write to needs --allow-remote-no-auth', () => {
    expect(problems(['--no-auth', '--listen-socket', '/run/dw/g.sock', '--socket-mode', '0666'], {})).toEqual([
      expect.stringMatching(/--no-auth on a socket with mode 0666 would let every local user deploy/),
    ]);
    expect(run(['--no-auth', '--allow-remote-no-auth', '--listen-socket', '/run/dw/g.sock', '--socket-mode', '0666'], {}).socket?.mode).toBe(0o666);
  });

  test('every mistake is reported at once', () => {
    const longPath = `/run/${'x'.repeat(120)}.sock`;
    expect(problems(['--listen-socket', 'relative.sock', '--socket-mode', 'rw-rw----', '--port', '9000'])).toEqual([
      expect.stringMatching(/listen-socket "relative.sock" must be an absolute path/),
      expect.stringMatching(/--listen-socket excludes --host and --port/),
      expect.stringMatching(/socket-mode "rw-rw----" is not an octal permission/),
    ]);
    expect(problems(['--listen-socket', longPath])).toEqual([expect.stringMatching(/is longer than the 107 bytes a unix socket path may have/)]);
    expect(problems(['--socket-mode', '0660'])).toEqual([expect.stringMatching(/--socket-mode applies only with --listen-socket/)]);
  });
});

describe('--tls-cert and --tls-key', () => {
  let certFile: string;
  let keyFile: string;
  let otherKey: string;
  beforeAll(async () => {
    ({ certFile, keyFile } = await createCertificate(dir, 'one'));
    ({ keyFile: otherKey } = await createCertificate(dir, 'two'));
  });

  test('both files are read at start-up, from flags or variables', () => {
    const tls = run(['--tls-cert', certFile, '--tls-key', keyFile]).tls;
    expect(tls).toEqual(
      expect.objectContaining({ certFile, keyFile, cert: expect.stringContaining('BEGIN CERTIFICATE'), key: expect.stringContaining('PRIVATE KEY') }),
    );
    const env = { ...credentials, DISNIX_WEBSERVICE_TLS_CERT: certFile, DISNIX_WEBSERVICE_TLS_KEY: keyFile };
    expect(run([], env).tls?.certFile).toBe(certFile);
  });

  test('one without the other, unreadable files, a key of another certificate: each named', () => {
    expect(problems(['--tls-cert', certFile])).toEqual([expect.stringMatching(/--tls-cert and --tls-key go together/)]);
    expect(problems(['--tls-cert', join(dir, 'missing.crt'), '--tls-key', keyFile])).toEqual([expect.stringMatching(/missing\.crt cannot be read: ENOENT/)]);
    expect(problems(['--tls-cert', certFile, '--tls-key', otherKey])).toEqual([
      expect.stringMatching(/two\.key is not the private key of the certificate in .*one\.crt/),
    ]);
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not PEM at all\n');
    expect(problems(['--tls-cert', garbage, '--tls-key', garbage])).toEqual([
      expect.stringMatching(/garbage\.pem holds no PEM certificate/),
      expect.stringMatching(/garbage\.pem holds no unencrypted PEM private key/),
    ]);
  });
});

describe('--no-auth-from', () => {
  test('addresses and ranges let in without credentials, from the flag or DISNIX_WEBSERVICE_NO_AUTH_FROM', () => {
    expect(run(['--no-auth-from', '10.1.2.3, 192.168.0.0/16']).noAuthFrom).toEqual({ entries: ['10.1.2.3', '192.168.0.0/16'] });
    expect(run([], { ...credentials, DISNIX_WEBSERVICE_NO_AUTH_FROM: 'loopback' }).noAuthFrom).toEqual({ entries: ['loopback'] });
    expect(run([]).noAuthFrom).toBeUndefined();
  });

  test('a bad entry is refused under its own name, and the option means nothing with --no-auth', () => {
    expect(problems(['--no-auth-from', 'coordinator.example.org'])).toEqual([
      expect.stringMatching(/^no-auth-from: "coordinator.example.org" is not an IP address/),
    ]);
    expect(problems(['--no-auth', '--host', '127.0.0.1', '--no-auth-from', '10.0.0.1'], {})).toEqual([
      expect.stringMatching(/--no-auth-from has no effect with --no-auth/),
    ]);
  });
});

describe('--trust-proxy', () => {
  test('addresses, CIDR ranges and names, from the flag or DISNIX_WEBSERVICE_TRUST_PROXY', () => {
    expect(run(['--trust-proxy', 'loopback, 10.1.2.3,192.168.0.0/16,fd00::/8']).trustProxy).toEqual({
      entries: ['loopback', '10.1.2.3', '192.168.0.0/16', 'fd00::/8'],
    });
    expect(run([], { ...credentials, DISNIX_WEBSERVICE_TRUST_PROXY: '::1' }).trustProxy).toEqual({ entries: ['::1'] });
    expect(run([]).trustProxy).toBeUndefined();
  });

  test('anything else is refused with the list of what is accepted', () => {
    expect(problems(['--trust-proxy', 'proxy.example.org,10.0.0.0/33,true'])).toEqual([
      expect.stringMatching(/"proxy.example.org", "10.0.0.0\/33", "true" is not an IP address, a CIDR range .* or one of loopback, linklocal, uniquelocal/),
    ]);
    expect(problems(['--trust-proxy', ' , '])).toEqual([expect.stringMatching(/trust-proxy is empty/)]);
  });

  test('whom the trust function believes', () => {
    const trust = trustFunction(run(['--trust-proxy', 'loopback,10.0.0.0/8,2001:db8::1']).trustProxy, true);
    expect([trust('127.0.0.1', 0), trust('::ffff:127.0.0.1', 0), trust('::1', 0), trust('10.9.8.7', 1), trust('2001:db8::1', 0)]).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect([trust('192.168.1.1', 0), trust('2001:db8::2', 0), trust('not-an-ip', 0)]).toEqual([false, false, false]);
    // A unix-socket peer has no address: trusted as loopback, and only as the connection itself;
    // on TCP, no address means a closed connection, whose headers count for nothing.
    expect([trust(undefined, 0), trust(undefined, 1)]).toEqual([true, false]);
    expect(trustFunction(run(['--trust-proxy', 'loopback']).trustProxy, false)(undefined, 0)).toBe(false);
    expect(trustFunction(run(['--trust-proxy', '10.0.0.1']).trustProxy, true)(undefined, 0)).toBe(false);
    expect(trustFunction(undefined, true)('127.0.0.1', 0)).toBe(false);
  });
});
