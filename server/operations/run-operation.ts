import type { ReceivedFile } from '../../protocol/codec/message-reader';
import type { Segment } from '../../protocol/codec/message-writer';
import { type ArgumentsOf, type OperationName, type TransferOperationName, isTransferOperation } from '../../protocol/operations';
import { type CheckedArguments, argumentsOf } from './operation-arguments';
import { exportRemoteFile, importLocalFile } from './closure-transfer';
import type { OperationContext } from './relay-operation';
import { relayOperation } from './relay-operation';
import { exportRemoteSnapshotPaths, exportRemoteSnapshots, importLocalSnapshots } from './snapshot-transfer';

type Transfer<N extends TransferOperationName> = (args: ArgumentsOf<N, ReceivedFile>, context: OperationContext) => Promise<Segment[]>;

/** The operations that move file contents, each around the job of its `via` in the table. */
const TRANSFERS: { readonly [N in TransferOperationName]: Transfer<N> } = {
  importLocalFile,
  exportRemoteFile,
  importLocalSnapshots,
  exportRemoteSnapshotPaths,
  exportRemoteSnapshots,
};

/** Runs an operation with its checked arguments; answers the content of its response. */
export function runOperation(name: OperationName, args: CheckedArguments, context: OperationContext): Promise<Segment[]> {
  if (!isTransferOperation(name)) return relayOperation(name, args, context);
  const transfer = TRANSFERS[name] as Transfer<typeof name>;
  return transfer(argumentsOf(name, args), context);
}
