import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** HTTPS served by the gateway itself (`--tls-cert`, `--tls-key`), for setups without a proxy. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM: the certificate, optionally followed by its intermediate CA certificates. */
  readonly cert: string;
  /** PEM: the unencrypted private key. */
  readonly key: string;
}

/**
 * Reads and checks both files at start-up, so that a wrong path, a key of another certificate
 * or an expired certificate stops the start with a message, instead of every client failing
 * later with a TLS error that names none of this.
 */
export function readTlsFiles(certFile: string | undefined, keyFile: string | undefined, problems: string[]): TlsFiles | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    problems.push('--tls-cert and --tls-key go together: give the certificate and its private key');
    return undefined;
  }
  const cert = readText(certFile, 'certificate', problems);
  const key = readText(keyFile, 'private key', problems);
  if (cert === undefined || key === undefined) return undefined;

  let certificate: X509Certificate | undefined;
  let privateKey: KeyObject | undefined;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    problems.push(`tls-cert ${certFile} holds no PEM certificate`);
  }
  try {
    privateKey = createPrivateKey(key);
  } catch {
    problems.push(`tls-key ${keyFile} holds no unencrypted PEM private key`);
  }
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push(`tls-key ${keyFile} is not the private key of the certificate in ${certFile}`);
  }
  if (certificate && Date.parse(certificate.validTo) < Date.now()) {
    problems.push(`the certificate in ${certFile} expired on ${certificate.validTo}`);
  }
  return Object.freeze({ certFile, keyFile, cert, key });
}

function readText(file: string, what: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`the TLS ${what} ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`);
    return undefined;
  }
}
