/**
 * What disnix-service leaves in its TMPDIR (export and capture_config files, which the real
 * daemon never removes) when the gateway may not delete there: the demo daemon writes its files
 * as the real one does, and the gateway counts as an unprivileged user (tests run as root, who
 * may delete anything) facing a sticky, root-owned directory, as /tmp is in production. The case
 * where it may is in gateway-transfer and gateway-operations.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addStorePath } from '../../testing/demo-store';
import { type GatewayEnvironment, startGatewayEnvironment } from '../../testing/gateway-fixture';
import { recordingLogger } from '../../testing/recording-logger';
import { faultOf, inlineRequest, post, returnsOf } from '../../testing/transfer-wire';

let env: GatewayEnvironment;
let stateDir: string;
const logger = recordingLogger();

afterAll(async () => {
  await env?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

test('a gateway that may not clean the daemon TMPDIR warns once at start-up; calls still succeed and leave the files', async () => {
  // The daemon's TMPDIR (tmp/ of its state) made sticky, like /tmp, before anything starts.
  stateDir = await mkdtemp(join(tmpdir(), 'sticky-daemon-'));
  await mkdir(join(stateDir, 'tmp'));
  await chmod(join(stateDir, 'tmp'), 0o1777);
  env = await startGatewayEnvironment({ logger, daemonStateDir: stateDir, identity: { uid: 65534, gids: [65534] } });
  const url = env.url;
  const auth = { username: env.username, password: env.password };
  expect(env.daemon.tmpDir).toBe(join(stateDir, 'tmp'));

  const path = await addStorePath(env.daemon.stateDir, 'kept-on-target', randomBytes(100_000));
  for (let i = 0; i < 3; i++) {
    const answer = await post(url, auth, inlineRequest('exportRemoteFile', [['derivation', path]]));
    expect({ status: answer.status, fault: faultOf(answer) }).toEqual({ status: 200, fault: undefined });
    expect((returnsOf(answer, true)[0] as Buffer).length).toBeGreaterThan(100_000);
  }
  const config = await post(url, auth, inlineRequest('captureConfig', []));
  expect(String(returnsOf(config, false)[0])).toMatch(/containers = \{/);

  expect((await readdir(env.daemon.tmpDir)).filter((name) => name.startsWith('disnix.'))).toHaveLength(4);
  const warnings = logger.records.filter((record) => record.level === 'warn');
  expect(warnings).toHaveLength(1);
  expect(warnings[0].message).toMatch(/cannot remove the closures and configurations disnix-service leaves in .* \(it has the sticky bit, like \/tmp/);
  expect(warnings[0].message).toMatch(/--daemon-tmpdir/);
}, 60_000);
