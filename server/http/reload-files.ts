import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { type TlsFiles, readTlsFiles } from '../config/tls';
import type { HtpasswdFile } from './htpasswd-file';

/** What reading the files again did: one phrase per file, for the single log line of a SIGHUP. */
export interface ReloadReport {
  readonly reloaded: readonly string[];
  /** Files that failed; the TLS files then stay as they were, the htpasswd file lets nobody in. */
  readonly failed: readonly string[];
}

export interface ReloadableFiles {
  readonly server: Server;
  readonly tls?: TlsFiles;
  readonly htpasswd?: HtpasswdFile;
}

/**
 * Reads the htpasswd file and the TLS certificate and key again: what an operator does after
 * renewing a certificate (certbot, an internal CA) or editing the users, without a restart that
 * would cut the calls in flight. New TLS files are checked as at start-up (the key matches, the
 * certificate has not expired) and take effect for new connections only; files that fail the
 * checks leave the old ones in force, since serving nothing would stop every deployment.
 * An htpasswd file that cannot be read lets nobody in, as it does between SIGHUPs.
 */
export function fileReloader({ server, tls, htpasswd }: ReloadableFiles): () => Promise<ReloadReport> {
  return async () => {
    const reloaded: string[] = [];
    const failed: string[] = [];
    if (htpasswd) {
      const { users, failure } = await htpasswd.reload();
      if (failure === undefined) reloaded.push(`htpasswd file ${htpasswd.path} (${users} user${users === 1 ? '' : 's'})`);
      else failed.push(failure);
    }
    if (tls) {
      const problems: string[] = [];
      const files = readTlsFiles(tls.certFile, tls.keyFile, problems);
      if (files === undefined || problems.length > 0) {
        failed.push(`${problems.join('; ')}: the TLS certificate and key read before stay in use`);
      } else {
        (server as unknown as HttpsServer).setSecureContext({ cert: files.cert, key: files.key });
        reloaded.push(`TLS certificate ${files.certFile} (valid until ${new X509Certificate(files.cert).validTo}) and key ${files.keyFile}`);
      }
    }
    return { reloaded, failed };
  };
}
