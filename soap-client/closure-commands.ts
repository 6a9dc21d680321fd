import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ClientError, fileProblem } from './errors';
import { createDownloadArea, moveToTempName } from './download-area';
import { createProgress } from './progress';
import { type TransferTarget, callTransfer, uploadFiles } from './transfer-http';

/** `--import --localfile FILE...`: each closure file goes up as MTOM and is imported, in turn. */
export async function importLocalClosures(target: TransferTarget, files: readonly string[]): Promise<string> {
  for (const path of files) {
    const size = await localFileSize(path, 'closure file');
    await uploadFiles(target, 'importLocalFile', { closure: { path, size } }, basename(path), size);
  }
  return '';
}

/**
 * `--export --remotefile PATH...`: the target exports the closure of the paths and it streams
 * down into a new file under $TMPDIR, whose path is the output. The coordinator removes it.
 */
export async function exportRemoteClosure(target: TransferTarget, derivations: readonly string[]): Promise<string> {
  const area = await createDownloadArea('disnix-soap-client');
  const progress = createProgress('download closure', undefined, 'target exporting');
  try {
    const answer = await callTransfer({
      ...target,
      operation: 'exportRemoteFile',
      values: { derivation: derivations },
      form: 'inline',
      answersFiles: true,
      newFilePath: area.newFilePath,
      download: progress,
    });
    const files = answer.items.filter((item) => item.kind === 'file');
    if (files.length !== 1 || files[0].kind !== 'file') throw new ClientError(`the gateway answered ${files.length} files where one closure was expected`);
    return `${await moveToTempName(files[0].file.path, 'disnix-closure')}\n`;
  } finally {
    progress.stop();
    await area.remove();
  }
}

/** The size of a file to send, once it is known to be there and readable: a problem shows before any byte goes out. */
export async function localFileSize(path: string, what: string): Promise<number> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new ClientError(`cannot send the ${what} ${path}: it is a directory, not a file`);
    if (!info.isFile()) throw new ClientError(`cannot send the ${what} ${path}: it is not a regular file`);
    await access(path, constants.R_OK);
    return info.size;
  } catch (error) {
    if (error instanceof ClientError) throw error;
    throw new ClientError(`cannot read the ${what} ${path}: ${fileProblem(error)}`);
  }
}
