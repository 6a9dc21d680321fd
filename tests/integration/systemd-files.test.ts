import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../testing/paths';

const run = promisify(execFile);
const SYSTEMD_DIR = join(PROJECT_ROOT, 'proxy-config', 'systemd');

/** The sysusers.d file as systemd-sysusers applies it, into a root of its own (never the machine's). */
test('the sysusers.d file creates the gateway user in the group disnix, as the unit expects', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sysusers-'));
  try {
    mkdirSync(join(root, 'etc'));
    await run('systemd-sysusers', [`--root=${root}`, join(SYSTEMD_DIR, 'disnix-webservice.sysusers')], { timeout: 30_000 });
    const passwd = readFileSync(join(root, 'etc', 'passwd'), 'utf8');
    const group = readFileSync(join(root, 'etc', 'group'), 'utf8');
    expect(passwd).toMatch(/^disnix-webservice:x:\d+:\d+:DisnixWebService SOAP gateway:\/nonexistent:\/usr\/sbin\/nologin$/m);
    expect(group).toMatch(/^disnix:x:\d+:disnix-webservice$/m);
    expect(group).toMatch(/^disnix-webservice:x:\d+:$/m);
    const unit = readFileSync(join(SYSTEMD_DIR, 'disnix-webservice.service'), 'utf8');
    expect(unit).toMatch(/^User=disnix-webservice$/m);
    expect(unit).toMatch(/^SupplementaryGroups=disnix$/m);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
