import { type OperationName, getOperation } from '../../protocol/operations';
import { type OperationResult, relayOperation } from '../operations/relay-operation';
import type { RawArguments } from '../operations/operation-arguments';
import type { ReceivedMessage } from '../../protocol/codec/message-reader';
import type { Segment } from '../../protocol/codec/message-writer';
import { returnElement } from './soap-reply';
import type { TransferContext } from './transfer-jobs';
import { checkedParts } from './transfer-request';

/**
 * A relayed operation (one disnix-service job) whose request the streaming reader has already
 * read: MTOM, compressed, or in the Java client's positional form. It reaches the same operation
 * code as calls of the other readers, without a second parse of the envelope.
 */
export async function relayReceivedCall(operation: OperationName, message: ReceivedMessage, context: TransferContext): Promise<Segment[]> {
  return resultElements(await relayOperation(operation, messageArguments(operation, message), context));
}

/** An operation's result as the `return` elements of its answer. */
export function resultElements(result: OperationResult): string[] {
  switch (result.kind) {
    case 'none':
      return [];
    case 'string':
      return [returnElement(result.value)];
    case 'strings':
      return result.values.map(returnElement);
  }
}

/** The parts as the `soap` package would hand them on: strings, lists of strings, or absent. */
function messageArguments(operation: OperationName, message: Pick<ReceivedMessage, 'items'>): RawArguments {
  const parts = checkedParts(operation, message);
  return Object.fromEntries(
    getOperation(operation).params.map((part) => {
      if (part.kind === 'strings') return [part.name, parts.texts(part.name)];
      return [part.name, parts.items(part.name).length === 0 ? undefined : parts.text(part.name)];
    }),
  );
}
