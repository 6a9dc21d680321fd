import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from './free-port';

/**
 * An sshd of our own on a loopback port, for the "ssh <host> true" baseline: its own config,
 * host key and authorized key in a scratch directory, key authentication only, stopped after.
 */
export interface LoopbackSshd {
  /** The argv of `ssh ... true` against it. */
  readonly command: readonly string[];
  stop(): void;
}

const SSHD = '/usr/sbin/sshd';
const POLICY_RC = '/usr/sbin/policy-rc.d';

/** Installs openssh-server/-client from Debian when missing and allowed; false when sshd cannot be had. */
export function ensureOpenssh(install: boolean, log: (message: string) => void): boolean {
  const missing = [existsSync(SSHD) ? undefined : 'openssh-server', existsSync('/usr/bin/ssh') ? undefined : 'openssh-client'].filter(
    (p): p is string => p !== undefined,
  );
  if (missing.length === 0) return true;
  if (!install || process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return false;
  log(`installing ${missing.join(' ')} (Debian) for the ssh baseline`);
  // Keep the package from starting a system sshd on port 22: only our loopback one may run.
  const ownPolicy = !existsSync(POLICY_RC);
  if (ownPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'ignore', env, timeout: 300_000 });
  } finally {
    if (ownPolicy) rmSync(POLICY_RC, { force: true });
  }
  return existsSync(SSHD) && existsSync('/usr/bin/ssh');
}

export async function startLoopbackSshd(dir: string): Promise<LoopbackSshd> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of ['host_key', 'client_key']) {
    const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, name)], { stdio: 'ignore' });
    if (made.status !== 0) throw new Error(`ssh-keygen failed for ${name}`);
  }
  copyFileSync(join(dir, 'client_key.pub'), join(dir, 'authorized_keys'));
  const port = await freeLoopbackPort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'StrictModes no',
    'LogLevel ERROR',
    // scp speaks SFTP since OpenSSH 9 (the transfer benchmark's baseline).
    'Subsystem sftp internal-sftp',
  ];
  writeFileSync(join(dir, 'sshd_config'), `${config.join('\n')}\n`);
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // its privilege separation directory
  const sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  sshd.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killOnExit = () => sshd.kill('SIGKILL');
  process.once('exit', killOnExit);
  const command = [
    'ssh',
    '-F',
    '/dev/null',
    '-p',
    String(port),
    '-i',
    join(dir, 'client_key'),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    `${userInfo().username}@127.0.0.1`,
    'true',
  ];
  const stop = () => {
    process.off('exit', killOnExit);
    sshd.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 50; attempt++) {
    if (sshd.exitCode !== null) break;
    if (spawnSync(command[0], command.slice(1), { stdio: 'ignore', timeout: 5_000 }).status === 0) return { command, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  stop();
  throw new Error(`the loopback sshd did not let us in: ${stderr.trim() || 'no message'}`);
}
