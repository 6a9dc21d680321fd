import type { CliRequest } from './cli';
import { exportRemoteClosure, importLocalClosures } from './closure-commands';
import type { Connection } from './connection';
import { ClientError } from './errors';
import { exportRemoteSnapshots, importLocalSnapshots } from './snapshot-commands';

/**
 * The four command-line forms that move file contents. Each answers what goes to stdout: a
 * downloaded closure's path, one directory per downloaded snapshot, or nothing for uploads.
 */
export function runTransfer(request: Extract<CliRequest, { kind: 'call' }>, target: Connection): Promise<string> {
  const { operation, values } = request.call;
  switch (operation) {
    case 'importLocalFile':
      return importLocalClosures(target, request.paths);
    case 'exportRemoteFile':
      return exportRemoteClosure(target, request.paths);
    case 'importLocalSnapshots':
      return importLocalSnapshots(target, String(values.container ?? ''), String(values.component ?? ''), request.paths);
    case 'exportRemoteSnapshots':
      return exportRemoteSnapshots(target, request.paths);
    default:
      throw new ClientError(`${operation} has no command-line form here`);
  }
}
