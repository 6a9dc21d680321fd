import { open } from 'node:fs/promises';
import type { ReceivedFile } from '../../protocol/codec/message-reader';
import type { Segment } from '../../protocol/codec/message-writer';
import { returnFile } from '../../protocol/codec/soap-envelope';
import type { ArgumentsOf } from '../../protocol/operations';
import { GatewayError } from '../errors/error-catalogue';
import { type OperationContext, runJob } from './relay-operation';

/**
 * Closures both ways. An upload is being imported while it arrives (see streamed-import), and
 * is ended here once the call's arguments are checked; or, where that is not possible, it has
 * been received whole into a file of the call's upload area, and `import` reads it there. A download runs `export` (whose paths are checked
 * first, see runJob) and streams the closure file the job names, which is removed afterwards.
 */
export async function importLocalFile(args: ArgumentsOf<'importLocalFile', ReceivedFile>, context: OperationContext): Promise<Segment[]> {
  const streamed = context.streamedImport?.(args.closure.path);
  if (streamed) await streamed.commit();
  else await runJob(context, 'importLocalFile', 'importm', [args.closure.path], false);
  return [];
}

export async function exportRemoteFile(args: ArgumentsOf<'exportRemoteFile', ReceivedFile>, context: OperationContext): Promise<Segment[]> {
  // Waited for even when the caller leaves: only this call learns the closure file's name, and
  // would leave the whole closure behind in the daemon's TMPDIR.
  const { results } = await runJob(context, 'exportRemoteFile', 'export', [args.derivation], false);
  const [path] = results;
  if (path === undefined || path === '') {
    throw new GatewayError('GW_ERR_RESULT', 'the export job succeeded but disnix-service named no closure file');
  }
  // Removed once it has been read to its end, before the answer's last bytes go, so that a caller
  // holding the whole answer finds it gone; if the call fails before that, when the call ends.
  context.discard(path);
  if (context.signal.aborted) throw new GatewayError('GW_ERR_CALLER_GONE', 'the caller went away while its closure was being exported');
  return returnFile({ path, size: await readableSize(path), afterRead: () => context.removeDaemonFile(path) });
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
