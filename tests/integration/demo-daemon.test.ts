/**
 * The demo disnix-service, over a real private dbus-daemon, with dbus-next as a client the
 * way the gateway talks to the real daemon: a match rule on the interface first, then
 * get_job_id, then the call, then one signal carrying the id.
 * Needs the compiled daemon: npx tsc -p tsconfig.json && npx jest tests/demo-daemon.test.ts
 */
import * as dbus from 'dbus-next';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISNIX_BUS_NAME, DISNIX_INTERFACE, DISNIX_OBJECT_PATH } from '../../server/dbus/disnix-interface';
import { startPrivateBus, type PrivateBus } from '../../demo/private-bus';
import { hashTree, readTree } from '../../demo/demo-tree';
import { operations } from '../../protocol/operations';
import { type DemoDaemon, startDemoDaemon } from '../../testing/demo-daemon';
import { addDerivation, addProfileManifest, addStorePath, componentOf, outputOf, readJobLog, writeComponentState } from '../../testing/demo-store';

interface JobSignal {
  readonly member: 'finish' | 'success' | 'failure';
  readonly pid: number;
  readonly paths?: string[];
}

interface JobResult extends JobSignal {
  readonly elapsedMs: number;
  readonly log: string;
}

/** A bare D-Bus client of org.nixos.disnix.Disnix that records every job signal it sees. */
class DisnixClient {
  readonly signals: JobSignal[] = [];
  /** Every message received, in wire order: signals as `<member> <pid>`, replies as `reply <serial>`. */
  readonly received: string[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly bus: dbus.MessageBus,
    private readonly stateDir: string,
  ) {
    bus.on('message', (msg: dbus.Message) => {
      if (msg.type === dbus.MessageType.METHOD_RETURN) this.received.push(`reply ${msg.replySerial}`);
      if (msg.type !== dbus.MessageType.SIGNAL || msg.interface !== DISNIX_INTERFACE) return;
      this.received.push(`${msg.member} ${msg.body[0]}`);
      const member = msg.member as JobSignal['member'];
      this.signals.push({ member, pid: msg.body[0] as number, paths: msg.body[1] as string[] | undefined });
      for (const wake of this.waiters) wake();
    });
  }

  static async connect(address: string, stateDir: string): Promise<DisnixClient> {
    const bus = dbus.sessionBus({ busAddress: address });
    bus.on('error', () => undefined);
    await bus.call(
      new dbus.Message({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'AddMatch',
        signature: 's',
        body: [`type='signal',interface='${DISNIX_INTERFACE}'`],
      }),
    );
    return new DisnixClient(bus, stateDir);
  }

  call(member: string, signature = '', body: unknown[] = [], iface = DISNIX_INTERFACE): Promise<dbus.Message | null> {
    return this.bus.call(this.message(member, signature, body, iface));
  }

  message(member: string, signature = '', body: unknown[] = [], iface = DISNIX_INTERFACE): dbus.Message {
    return new dbus.Message({ destination: DISNIX_BUS_NAME, path: DISNIX_OBJECT_PATH, interface: iface, member, signature, body });
  }

  async jobId(): Promise<number> {
    return (await this.call('get_job_id'))?.body[0] as number;
  }

  signalOf(pid: number): JobSignal | undefined {
    return this.signals.find((signal) => signal.pid === pid);
  }

  /** The job's signal, or undefined when none came within `timeoutMs`. */
  async waitFor(pid: number, timeoutMs = 15_000): Promise<JobSignal | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.signalOf(pid);
      const left = deadline - Date.now();
      if (found || left <= 0) return found;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /** Runs one job: a fresh id, the call, its signal, its log. */
  async run(method: string, signature: string, args: unknown[]): Promise<JobResult> {
    const pid = await this.jobId();
    const started = Date.now();
    await this.call(method, `i${signature}`, [pid, ...args]);
    const signal = await this.waitFor(pid);
    if (!signal) throw new Error(`no signal for job ${pid} (${method})`);
    return { ...signal, elapsedMs: Date.now() - started, log: await readJobLog(this.stateDir, pid) };
  }

  close(): void {
    this.bus.disconnect();
  }
}

let bus: PrivateBus;
let daemon: DemoDaemon;
let client: DisnixClient;

beforeAll(async () => {
  bus = await startPrivateBus();
  daemon = await startDemoDaemon({ busAddress: bus.address });
  client = await DisnixClient.connect(bus.address, daemon.stateDir);
});

afterAll(async () => {
  client?.close();
  await daemon?.stop();
  await bus?.stop();
});

const dysnomiaArgs = (path: string, container: string, type: string, args: string[] = []) => [path, container, type, args];

describe('the job protocol', () => {
  test('job ids increase, each job signals once with its id and has its own log', async () => {
    const first = await client.run('query_installed', 's', ['default']);
    const second = await client.run('query_installed', 's', ['default']);
    expect(second.pid).toBeGreaterThan(first.pid);
    expect(first).toMatchObject({ member: 'success', paths: [''] });
    expect(client.signals.filter((signal) => signal.pid === first.pid)).toHaveLength(1);
    expect(first.log).toBe('Query installed derivations from profile: default\n');
    const logDir = (await client.call('get_logdir'))?.body[0];
    expect(logDir).toBe(daemon.logDir);
    expect(await readdir(daemon.logDir)).toEqual(expect.arrayContaining([String(first.pid), String(second.pid)]));
  });

  test('introspection declares every D-Bus job of wsdl/operations.ts with its signature', async () => {
    const xml = (await client.call('Introspect', '', [], 'org.freedesktop.DBus.Introspectable'))?.body[0] as string;
    const section = xml.slice(xml.indexOf(`<interface name="${DISNIX_INTERFACE}">`));
    const declared = new Map<string, string>();
    for (const [, name = '', body = ''] of section.slice(0, section.indexOf('</interface>')).matchAll(/<method name="(\w+)">([\s\S]*?)<\/method>/g)) {
      declared.set(name, [...body.matchAll(/direction="in" type="([^"]+)"/g)].map((arg) => arg[1]).join(''));
    }
    const expected = new Map<string, string>([
      ['get_job_id', ''],
      ['get_logdir', ''],
    ]);
    for (const operation of Object.values(operations)) {
      if ('dbus' in operation) expected.set(operation.dbus.method, `i${operation.dbus.signature}`);
    }
    expect(Object.fromEntries(declared)).toEqual(Object.fromEntries(expected));
    expect(section).toMatch(/<signal name="success">/);
  });

  test('unknown methods and wrong argument types get the standard D-Bus errors', async () => {
    await expect(client.call('no_such_method')).rejects.toMatchObject({ type: 'org.freedesktop.DBus.Error.UnknownMethod' });
    await expect(client.call('lock', 'ii', [1, 2])).rejects.toMatchObject({ type: 'org.freedesktop.DBus.Error.InvalidArgs' });
  });

  test('a reused job id fails, and the failure signal comes before the method returns', async () => {
    const done = await client.run('query_installed', 's', ['default']);
    const reuse = client.message('query_installed', 'is', [done.pid, 'default']);
    await client.bus.call(reuse);
    const order = client.received.filter((entry) => entry === `failure ${done.pid}` || entry === `reply ${reuse.serial}`);
    expect(order).toEqual([`failure ${done.pid}`, `reply ${reuse.serial}`]);

    // An id whose log survived a daemon restart counts as used too.
    await writeFile(join(daemon.logDir, '999999'), 'an old job\n');
    await client.call('query_installed', 'is', [999999, 'default']);
    expect(client.signalOf(999999)?.member).toBe('failure');
    expect(await readFile(join(daemon.logDir, '999999'), 'utf8')).toBe('an old job\n');
  });
});

describe('profiles', () => {
  test('set and query_installed round-trip through the manifest; set of a path not in the store fails', async () => {
    const first = await addProfileManifest(daemon.stateDir, 'web-profile', '<profilemanifest version="2">one</profilemanifest>\n');
    const second = await addProfileManifest(daemon.stateDir, 'web-profile', '<profilemanifest version="2">two</profilemanifest>\n');
    const set = await client.run('set', 'ss', ['web', first]);
    expect(set).toMatchObject({ member: 'finish', log: `Set profile: web with derivation: ${first}\n` });
    expect(await client.run('query_installed', 's', ['web'])).toMatchObject({
      member: 'success',
      paths: ['<profilemanifest version="2">one</profilemanifest>\n'],
    });
    expect(await client.run('set', 'ss', ['web', second])).toMatchObject({ member: 'finish' });
    expect((await client.run('query_installed', 's', ['web'])).paths).toEqual(['<profilemanifest version="2">two</profilemanifest>\n']);

    const missing = join(daemon.storeDir, '00000000000000000000000000000000-missing');
    const failed = await client.run('set', 'ss', ['web', missing]);
    expect(failed.member).toBe('failure');
    expect(failed.log).toContain(`don't know how to build these paths:\n  ${missing}\nerror: build of '${missing}' failed`);
    expect((await client.run('query_installed', 's', ['unknown-profile'])).paths).toEqual(['']);
    expect((await client.run('query_installed', 's', [''])).paths).toEqual(['']);

    // A store path without a manifest answers itself (a demo convenience).
    const plain = await addStorePath(daemon.stateDir, 'plain-file', 'no manifest here');
    await client.run('set', 'ss', ['plain', plain]);
    expect((await client.run('query_installed', 's', ['plain'])).paths).toEqual([plain]);
  });

  test('lock fails while locked; unlock without a lock fails', async () => {
    expect((await client.run('lock', 's', ['locked'])).member).toBe('finish');
    const again = await client.run('lock', 's', ['locked']);
    expect(again.member).toBe('failure');
    expect(again.log).toContain('Cannot exclusively open the lock file!');
    expect((await client.run('unlock', 's', ['locked'])).member).toBe('finish');
    const unlocked = await client.run('unlock', 's', ['locked']);
    expect(unlocked.member).toBe('failure');
    expect(unlocked.log).toContain('There is no lock file!');
    expect((await client.run('lock', 's', ['locked'])).member).toBe('finish');
  });
});

describe('the store', () => {
  test('realise of an absent derivation fails with a Nix error in the log', async () => {
    const absent = join(daemon.storeDir, '11111111111111111111111111111111-absent.drv');
    const result = await client.run('realise', 'as', [[absent]]);
    expect(result.member).toBe('failure');
    expect(result.log).toBe(`Realising: ${absent} \ndon't know how to build these paths:\n  ${absent}\nerror: cannot build missing derivation '${absent}'\n`);
  });

  test('realise builds a derivation into its output path; a failing build logs why', async () => {
    const drv = await addDerivation(daemon.stateDir, 'greeter', { files: { 'share/greeting': 'hello\n' } });
    const result = await client.run('realise', 'as', [[drv]]);
    expect(result).toMatchObject({ member: 'success', paths: [outputOf(drv)] });
    expect(result.log).toBe(`Realising: ${drv} \nthis derivation will be built:\n  ${drv}\nbuilding '${drv}'...\n`);
    expect(await readFile(join(outputOf(drv), 'share/greeting'), 'utf8')).toBe('hello\n');

    const broken = await addDerivation(daemon.stateDir, 'broken', { fail: 'compilation failed: x.c:3' });
    const failed = await client.run('realise', 'as', [[broken]]);
    expect(failed.member).toBe('failure');
    expect(failed.log).toContain('compilation failed: x.c:3');
    expect(failed.log).toContain(`error: builder for '${broken}' failed`);
    expect(existsSync(outputOf(broken))).toBe(false);
  });

  test('print_invalid and query_requisites follow the store and its references', async () => {
    const lib = await addStorePath(daemon.stateDir, 'libfoo', { 'lib/libfoo.so': 'ELF' });
    const app = await addStorePath(daemon.stateDir, 'app', { 'bin/app': '#!/bin/sh\n' }, [lib]);
    const absent = join(daemon.storeDir, '22222222222222222222222222222222-absent');
    expect((await client.run('print_invalid', 'as', [[app, absent, lib]])).paths).toEqual([absent]);
    expect((await client.run('query_requisites', 'as', [[app]])).paths).toEqual([lib, app]);
    expect((await client.run('query_requisites', 'as', [[absent]])).member).toBe('failure');
    const outside = await client.run('print_invalid', 'as', [['/tmp/not-in-any-store']]);
    expect(outside.member).toBe('failure');
    expect(outside.log).toContain("error: getting status of '/tmp/not-in-any-store': No such file or directory");
  });

  test('buildMs and delay make jobs take that long without holding up other jobs', async () => {
    const slow = await addDerivation(daemon.stateDir, 'slow', { buildMs: 1200 });
    const component = await addStorePath(daemon.stateDir, 'sleeper', 'x');
    const build = client.run('realise', 'as', [[slow]]);
    const activation = client.run('activate', 'sssas', dysnomiaArgs(component, 'process', 'process', ['delay=1200']));
    const quick = await client.run('query_installed', 's', ['default']);
    expect(quick.elapsedMs).toBeLessThan(900);
    const [built, activated] = await Promise.all([build, activation]);
    expect(built.member).toBe('success');
    expect(activated.member).toBe('finish');
    expect(built.elapsedMs).toBeGreaterThanOrEqual(1200);
    expect(activated.elapsedMs).toBeGreaterThanOrEqual(1200);
    // Concurrent, not one after the other.
    expect(Math.max(built.elapsedMs, activated.elapsedMs)).toBeLessThan(2300);
  });

  test('many jobs run concurrently', async () => {
    const component = await addStorePath(daemon.stateDir, 'crowd', 'x');
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, () => client.run('activate', 'sssas', dysnomiaArgs(component, 'echo', 'echo', ['delay=500']))),
    );
    expect(results.every((result) => result.member === 'finish')).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000); // one after the other: 100 s
  });

  test('a failed export sends no signal at all but explains itself in its log', async () => {
    const absent = join(daemon.storeDir, '33333333333333333333333333333333-absent');
    const pid = await client.jobId();
    await client.call('export', 'ias', [pid, [absent]]);
    expect(await client.waitFor(pid, 500)).toBeUndefined();
    expect(await readJobLog(daemon.stateDir, pid)).toContain(`error: path '${absent}' is not valid`);
  });

  test('export then import restores the same store paths with the same content', async () => {
    const lib = await addStorePath(daemon.stateDir, 'exported-lib', { 'lib/data.bin': Buffer.from([0, 1, 2, 255]) });
    const app = await addStorePath(daemon.stateDir, 'exported-app', { 'etc/app.conf': 'a=1\n', README: 'read me\n' }, [lib]);
    const before = [hashTree(await readTree(app)), hashTree(await readTree(lib))];

    const exported = await client.run('export', 'as', [[app]]);
    expect(exported.member).toBe('success');
    const [closure] = exported.paths ?? [];
    expect(closure?.startsWith(join(daemon.stateDir, 'tmp'))).toBe(true);

    // Unreferenced by any profile: garbage collection removes both.
    expect((await client.run('collect_garbage', 'b', [false])).member).toBe('finish');
    expect([existsSync(app), existsSync(lib)]).toEqual([false, false]);

    const imported = await client.run('import', 's', [closure]);
    expect(imported.member).toBe('finish');
    expect([hashTree(await readTree(app)), hashTree(await readTree(lib))]).toEqual(before);
    expect(imported.log).toBe(`Importing: ${closure}\n${lib}\n${app}\n`);
    expect((await client.run('query_requisites', 'as', [[app]])).paths).toEqual([lib, app]);

    const corrupt = join(daemon.stateDir, 'tmp', 'corrupt.closure');
    await writeFile(corrupt, '{"format": "something else"}');
    const failed = await client.run('import', 's', [corrupt]);
    expect(failed.member).toBe('failure');
    expect(failed.log).toContain("input doesn't look like something created by 'nix-store --export'");
    expect((await client.run('import', 's', ['/nonexistent/closure'])).member).toBe('failure');
  });

  test('export and import stream a large store path through the closure file unchanged', async () => {
    const content = Buffer.alloc(64 * 1024 * 1024);
    for (let i = 0; i < content.length; i += 4096) content.writeUInt32LE((i * 2654435761) >>> 0, i);
    const big = await addStorePath(daemon.stateDir, 'big-blob', content);
    const digest = createHash('sha256').update(content).digest('hex');
    const exported = await client.run('export', 'as', [[big]]);
    expect(exported.member).toBe('success');
    const [closure] = exported.paths ?? [];
    expect((await client.run('collect_garbage', 'b', [false])).member).toBe('finish');
    expect(existsSync(big)).toBe(false);

    const imported = await client.run('import', 's', [closure]);
    expect(imported.member).toBe('finish');
    expect(imported.log).toBe(`Importing: ${closure}\n${big}\n`);
    expect(
      createHash('sha256')
        .update(await readFile(big))
        .digest('hex'),
    ).toBe(digest);
  }, 60_000);

  test('a truncated or tampered closure file fails to import and leaves the store unchanged', async () => {
    const lib = await addStorePath(daemon.stateDir, 'cut-lib', { 'lib/data.bin': Buffer.alloc(100_000, 7) });
    const app = await addStorePath(daemon.stateDir, 'cut-app', { 'bin/app': 'run\n' }, [lib]);
    const [closure] = (await client.run('export', 'as', [[app]])).paths ?? [];
    expect((await client.run('collect_garbage', 'b', [false])).member).toBe('finish');
    const whole = await readFile(closure as string);
    const store = async () => [await readdir(daemon.storeDir), await readdir(join(daemon.stateDir, 'db'))];
    const before = await store();

    const truncated = join(daemon.stateDir, 'tmp', 'truncated.closure');
    const tampered = join(daemon.stateDir, 'tmp', 'tampered.closure');
    const flipped = Buffer.from(whole);
    flipped[Math.floor(whole.length / 2)] ^= 1;
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    await writeFile(tampered, flipped);
    for (const [file, why] of [
      [truncated, 'cut short'],
      [tampered, 'SHA-256 mismatch'],
    ] as const) {
      const failed = await client.run('import', 's', [file]);
      expect(failed.member).toBe('failure');
      expect(failed.log).toContain(`error: closure file '${file}' is corrupt or truncated: `);
      expect(failed.log).toContain(why);
      expect(failed.log).toContain("input doesn't look like something created by 'nix-store --export'");
      expect(await store()).toEqual(before);
    }
    expect([existsSync(lib), existsSync(app)]).toEqual([false, false]);
  });

  test('collect_garbage keeps what profiles refer to; with deleteOld only the current generation', async () => {
    const old = await addStorePath(daemon.stateDir, 'gc-old', 'old');
    const current = await addStorePath(daemon.stateDir, 'gc-current', 'current');
    await client.run('set', 'ss', ['gc', old]);
    await client.run('set', 'ss', ['gc', current]);
    await client.run('collect_garbage', 'b', [false]);
    expect([existsSync(old), existsSync(current)]).toEqual([true, true]);
    const collected = await client.run('collect_garbage', 'b', [true]);
    expect(collected.log).toContain(`deleting '${old}'`);
    expect([existsSync(old), existsSync(current)]).toEqual([false, true]);
  });

  test('capture_config answers a file holding a Nix expression of the containers', async () => {
    const result = await client.run('capture_config', '', []);
    expect(result.member).toBe('success');
    expect(result.log).toBe('');
    const text = await readFile(result.paths?.[0] ?? '', 'utf8');
    expect(text).toMatch(/^\{\n {2}properties = \{\n {4}"hostname" = "[^"]+";\n {4}"system" = "\w+-\w+";\n {2}\};\n/);
    expect(text).toMatch(/\n {2}containers = \{\n[\s\S]*\n {4}process = \{\n {4}\};\n[\s\S]*\n {2}\};\n {2}"system" = "\w+-\w+";\n\}$/);
  });
});

describe('Dysnomia and snapshots', () => {
  test('an unknown module type fails with the Dysnomia message', async () => {
    const path = await addStorePath(daemon.stateDir, 'typed', 'x');
    const result = await client.run('activate', 'sssas', dysnomiaArgs(path, 'c', 'no-such-type'));
    expect(result.member).toBe('failure');
    expect(result.log).toContain('Module: no-such-type cannot be found!');
    const told = await client.run('deactivate', 'sssas', dysnomiaArgs(path, 'c', 'echo', ['fail=told to fail']));
    expect(told).toMatchObject({ member: 'failure' });
    expect(told.log).toContain('told to fail');

    // The echo module, like Dysnomia's, only tells what it was asked, even for a missing path.
    const missing = join(daemon.storeDir, '44444444444444444444444444444444-missing');
    const echoed = await client.run('activate', 'sssas', dysnomiaArgs(missing, 'echo', 'echo', ['FOO=bar']));
    expect(echoed).toMatchObject({ member: 'finish' });
    expect(echoed.log).toBe(
      `activate: ${missing} of type: echo in container: echo with arguments: FOO=bar \n` +
        `Echo module: Activate service: ${missing}\nEnvironment variables:\nFOO=bar\n`,
    );
    expect((await client.run('activate', 'sssas', dysnomiaArgs(missing, 'process', 'process'))).member).toBe('failure');
  });

  test('names that would lead out of the state directory are refused', async () => {
    const path = await addStorePath(daemon.stateDir, 'escaper', 'x');
    const deleted = await client.run('delete_state', 'sssas', dysnomiaArgs(path, '../..', 'process'));
    expect(deleted.member).toBe('failure');
    expect(deleted.log).toContain("invalid container name '../..'");
    expect((await client.run('delete_state', 'sssas', dysnomiaArgs('/etc', 'c', 'process'))).member).toBe('failure');
    expect((await client.run('clean_snapshots', 'iss', [0, '..', '..'])).member).toBe('finish');
    expect(existsSync(join(daemon.stateDir, 'store'))).toBe(true);
    expect((await client.run('lock', 's', ['../escape'])).member).toBe('failure');
  });

  test('snapshot, query, resolve, delete_state, restore and clean', async () => {
    const service = await addStorePath(daemon.stateDir, 'counter-db', { 'bin/db': '#!/bin/sh\n' });
    const component = componentOf(service);
    const args = (type = 'process') => dysnomiaArgs(service, 'db-host', type);
    expect((await client.run('activate', 'sssas', args())).member).toBe('finish');

    await writeComponentState(daemon.stateDir, 'db-host', component, { 'data/count': '1\n' });
    await client.run('snapshot', 'sssas', args());
    await writeComponentState(daemon.stateDir, 'db-host', component, { 'data/count': '2\n' });
    await client.run('snapshot', 'sssas', args());

    const all = (await client.run('query_all_snapshots', 'ss', ['db-host', component])).paths ?? [];
    expect(all).toHaveLength(2);
    expect(all.every((path) => path.startsWith(`db-host/${component}/`))).toBe(true);
    const latest = (await client.run('query_latest_snapshot', 'ss', ['db-host', component])).paths;
    expect(latest).toEqual([all[1]]);
    expect((await client.run('query_latest_snapshot', 'ss', ['db-host', service])).paths).toEqual([all[1]]);
    expect((await client.run('query_latest_snapshot', 'ss', ['', ''])).paths).toContain(all[1]);

    const [resolved] = (await client.run('resolve_snapshots', 'as', [[all[1]]])).paths ?? [];
    expect(await readFile(join(resolved ?? '', 'data/count'), 'utf8')).toBe('2\n');
    expect((await client.run('resolve_snapshots', 'as', [['../../etc']])).member).toBe('failure');
    const missing = `db-host/${component}/not-there`;
    expect((await client.run('print_missing_snapshots', 'as', [[all[0], missing]])).paths).toEqual([missing]);

    const stateDir = join(daemon.stateDir, 'state', 'db-host', component);
    await client.run('delete_state', 'sssas', args());
    expect(existsSync(stateDir)).toBe(false);
    await client.run('restore', 'sssas', args());
    expect(await readFile(join(stateDir, 'data/count'), 'utf8')).toBe('2\n');

    const cleaned = await client.run('clean_snapshots', 'iss', [1, 'db-host', component]);
    expect(cleaned.log).toBe(
      `Clean old snapshots for container: db-host for component: ${component} num of generations to keep: 1!\n` + `Removing old snapshot: ${all[0]}\n`,
    );
    expect((await client.run('query_all_snapshots', 'ss', ['db-host', component])).paths).toEqual([all[1]]);
    // keep 0, as in Dysnomia: no generation stays.
    expect((await client.run('clean_snapshots', 'iss', [0, 'db-host', component])).member).toBe('finish');
    expect((await client.run('query_all_snapshots', 'ss', ['db-host', component])).paths).toEqual([]);
  });

  test('import_snapshots moves the directory into the snapshot store under its own name', async () => {
    const upload = mkdtempSync(join(tmpdir(), 'disnix-upload-'));
    try {
      const snapshot = join(upload, 'generation-7');
      await mkdir(join(snapshot, 'dump'), { recursive: true });
      await writeFile(join(snapshot, 'dump', 'db.sql'), 'CREATE TABLE t;\n');
      const result = await client.run('import_snapshots', 'ssas', ['db-host', 'imported-db', [snapshot]]);
      expect(result.member).toBe('finish');
      expect(existsSync(snapshot)).toBe(false);
      expect((await client.run('query_latest_snapshot', 'ss', ['db-host', 'imported-db'])).paths).toEqual(['db-host/imported-db/generation-7']);
      const moved = join(daemon.stateDir, 'snapshots', 'db-host', 'imported-db', 'generation-7', 'dump', 'db.sql');
      expect(await readFile(moved, 'utf8')).toBe('CREATE TABLE t;\n');

      // Like the real daemon's `mv`: no second snapshot of the same name, no missing directory.
      await mkdir(snapshot);
      const again = await client.run('import_snapshots', 'ssas', ['db-host', 'imported-db', [snapshot]]);
      expect(again.member).toBe('failure');
      expect(again.log).toContain('Directory not empty');
      const gone = await client.run('import_snapshots', 'ssas', ['db-host', 'imported-db', [join(upload, 'nothing')]]);
      expect(gone.log).toContain(`mv: cannot stat '${join(upload, 'nothing')}': No such file or directory`);
      const nowhere = await client.run('import_snapshots', 'ssas', ['', 'imported-db', [snapshot]]);
      expect(nowhere).toMatchObject({ member: 'failure' });
      expect(nowhere.log).toContain('ERROR: No container specified!');
    } finally {
      rmSync(upload, { recursive: true, force: true });
    }
  });
});

describe('restarts', () => {
  test('a daemon killed mid-job never signals; a new one continues the ids after the highest log name', async () => {
    const component = await addStorePath(daemon.stateDir, 'interrupted', 'x');
    const pid = await client.jobId();
    await client.call('activate', 'isssas', [pid, ...dysnomiaArgs(component, 'echo', 'echo', ['delay=700'])]);
    await daemon.kill('SIGKILL');
    await writeFile(join(daemon.logDir, '5000'), 'an old job\n');
    daemon = await startDemoDaemon({ busAddress: bus.address, stateDir: daemon.stateDir, extraArgs: ['--job-delay-ms', '300'] });
    expect(await client.waitFor(pid, 1200)).toBeUndefined();
    expect(await client.jobId()).toBe(Math.max(pid, 999999, 5000) + 1);

    const delayed = await client.run('query_installed', 's', ['default']);
    expect(delayed.elapsedMs).toBeGreaterThanOrEqual(300);
  });

  test('the daemon exits with a message when the bus goes away', async () => {
    const ownBus = await startPrivateBus();
    const lonely = await startDemoDaemon({ busAddress: ownBus.address });
    try {
      await ownBus.stop();
      expect(await lonely.exited).toBe(1);
      expect(lonely.stderr()).toMatch(/went away|failed/);
    } finally {
      await lonely.kill();
      await ownBus.stop();
    }
  });

  test('with a missing --log-dir every job fails at once, as with the real daemon', async () => {
    const ownBus = await startPrivateBus();
    const logDir = join(ownBus.dir, 'missing', 'deep');
    const blind = await startDemoDaemon({ busAddress: ownBus.address, extraArgs: ['--log-dir', logDir] });
    const ownClient = await DisnixClient.connect(ownBus.address, blind.stateDir);
    try {
      expect((await ownClient.call('get_logdir'))?.body[0]).toBe(logDir);
      const pid = await ownClient.jobId();
      await ownClient.call('query_installed', 'is', [pid, 'default']);
      expect(ownClient.signalOf(pid)?.member).toBe('failure');
      expect(existsSync(logDir)).toBe(false);
    } finally {
      ownClient.close();
      await blind.stop();
      await ownBus.stop();
    }
  });

  test('a private bus restarts at the same address', async () => {
    const ownBus = await startPrivateBus();
    const ping = async () => {
      const peer = dbus.sessionBus({ busAddress: ownBus.address });
      peer.on('error', () => undefined);
      try {
        const reply = await peer.call(
          new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'GetId' }),
        );
        return reply?.body[0] as string;
      } finally {
        peer.disconnect();
      }
    };
    try {
      const [firstPid, firstId] = [ownBus.pid, await ping()];
      await ownBus.restart();
      expect(ownBus.pid).not.toBe(firstPid);
      expect(await ping()).not.toBe(firstId);
    } finally {
      await ownBus.stop();
    }
    expect(existsSync(ownBus.dir)).toBe(false);
  });
});
