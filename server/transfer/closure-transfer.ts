import { open } from 'node:fs/promises';
import { operations } from '../../protocol/operations';
import { GatewayError } from '../errors';
import type { Segment } from '../../protocol/codec/message-writer';
import { type TransferContext, runJob } from './transfer-jobs';
import type { TransferRequest } from './transfer-request';

/**
 * Closures both ways. An upload has been received whole into a file of the call's upload area
 * before this runs; `import` reads it there. A download runs `export` and streams the closure
 * file the job names.
 */
export async function importLocalFile(request: TransferRequest, context: TransferContext): Promise<Segment[]> {
  const [closure] = request.files('closure');
  await runJob(context, 'importLocalFile', operations.importm.dbus, [closure.path], false);
  return [];
}

export async function exportRemoteFile(request: TransferRequest, context: TransferContext): Promise<Segment[]> {
  const derivations = request.strings('derivation');
  const [path] = await runJob(context, 'exportRemoteFile', operations.export.dbus, [derivations], true);
  if (path === undefined || path === '') {
    throw new GatewayError('GW_ERR_RESULT', 'the export job succeeded but disnix-service named no closure file');
  }
  return ['<tns:return>', { path, size: await readableSize(path) }, '</tns:return>'];
}

/** The size of a file the gateway can read, or a Fault that says why it cannot. */
async function readableSize(path: string): Promise<number> {
  try {
    const handle = await open(path, 'r');
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new Error('it is not a regular file');
      return info.size;
    } finally {
      await handle.close();
    }
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new GatewayError('GW_ERR_RESULT', `the export job wrote ${path}, which the gateway cannot read: ${reason}`, { cause: error });
  }
}
