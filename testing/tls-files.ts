import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './server-process';

export interface CertificateFiles {
  /** Self-signed, for 127.0.0.1, localhost and deploy.example.org: the client trusts it through NODE_EXTRA_CA_CERTS. */
  readonly certFile: string;
  readonly keyFile: string;
}

/** A fresh self-signed certificate, made by Debian's openssl, valid for two days. */
export async function createCertificate(dir: string, name = 'server'): Promise<CertificateFiles> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=disnix-webservice test',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:deploy.example.org',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile };
}

/**
 * An htpasswd file with bcrypt entries made by Apache's htpasswd, as the README says to; the
 * password goes in on stdin (-i), never on a command line. Readable by all: Apache's workers
 * read it as their own user.
 */
export async function createHtpasswd(file: string, users: Readonly<Record<string, string>>): Promise<void> {
  await writeFile(file, '');
  for (const [name, password] of Object.entries(users)) await run('htpasswd', ['-i', '-B', file, name], `${password}\n`);
  await chmod(file, 0o644);
}
