import { type OperationName, TARGET_NAMESPACE, getOperation, isRelayed, operationNames } from '../../protocol/operations';
import { GatewayError } from '../errors';
import type { MessageReaderOptions, ReceivedFile, ReceivedItem, ReceivedMessage } from '../../protocol/codec/message-reader';
import { PositionalParts, isList, isPositionalName } from '../../protocol/codec/positional-parts';

/**
 * The gateway's side of a transfer call's request: which operations are transfers, how their
 * parts are recognised while the message streams in, and the checked values afterwards.
 */
export type TransferOperationName = 'importLocalFile' | 'exportRemoteFile' | 'importLocalSnapshots' | 'exportRemoteSnapshotPaths' | 'exportRemoteSnapshots';

/** The operations of the table that are not one D-Bus job: those move file contents. */
export function isTransferOperation(name: string | undefined): name is TransferOperationName {
  return name !== undefined && (operationNames as string[]).includes(name) && !isRelayed(name as OperationName);
}

/**
 * How the message reader recognises the request's parts. Children are matched by local name,
 * or, in the Java client's form (`arg0`, `item3`, ...), by position; see positional-parts.
 */
export function requestReaderOptions(
  maxMarkupChars: number,
  newFilePath: () => string,
): Omit<MessageReaderOptions, 'onBytes'> & { readonly operation: () => OperationName | undefined; readonly positional: () => boolean } {
  let operation: OperationName | undefined;
  let positions: PositionalParts | undefined;
  let positional = false;
  const partOf = (name: string) => (operation === undefined ? undefined : getOperation(operation).params.find((p) => p.name === name));
  return {
    operation: () => operation,
    positional: () => positional,
    maxMarkupChars,
    acceptFault: false,
    newFilePath,
    acceptBody(local, uri) {
      if (uri !== TARGET_NAMESPACE) return `the body element <${local}> is not in the namespace ${TARGET_NAMESPACE}`;
      if (!(operationNames as string[]).includes(local)) return `there is no operation "${local}"; the WSDL lists them`;
      operation = local as OperationName;
      positions = new PositionalParts(getOperation(operation).params);
      return undefined;
    },
    partName(local, nil) {
      if (positions === undefined || !isPositionalName(local)) return local;
      positional = true;
      // A number beyond the parts keeps its name, which the checks then report as unknown.
      return positions.partOf(local, nil)?.name ?? local;
    },
    isBinary(part) {
      const kind = partOf(part)?.kind;
      return kind === 'file' || kind === 'files';
    },
  };
}

export interface TransferRequest {
  readonly operation: TransferOperationName;
  /** Whether it came as MTOM: the answer then comes as MTOM too. */
  readonly mtom: boolean;
  /** Whether it came in the Java client's positional form, whose paths mean client paths. */
  readonly positional: boolean;
  string(part: string): string;
  strings(part: string): string[];
  files(part: string): ReceivedFile[];
}

/** Checks the parts of a received transfer request against the table. */
export function toTransferRequest(operation: TransferOperationName, message: ReceivedMessage, positional: boolean): TransferRequest {
  const parts = checkedParts(operation, message);
  return {
    operation,
    mtom: message.mtom,
    positional,
    string: (part) => parts.text(part),
    strings: (part) => parts.texts(part),
    files(part) {
      return parts.items(part).map((item) => {
        if (item.kind !== 'file') throw badRequest(`${operation}: part "${part}" must hold file contents`);
        return item.file;
      });
    },
  };
}

/** The message's items by part, after checking that each part is there as often as it may be. */
export interface CheckedParts {
  items(part: string): ReceivedItem[];
  /** A scalar part's text; a null (xsi:nil) is "" where the part takes "" for "any". */
  text(part: string): string;
  /** A list part's texts, its null elements left out. */
  texts(part: string): string[];
}

export function checkedParts(operation: OperationName, message: Pick<ReceivedMessage, 'items'>): CheckedParts {
  const params = getOperation(operation).params;
  const unknown = message.items.find((item) => !params.some((part) => part.name === item.name));
  if (unknown) throw badRequest(`${operation} takes no element "${unknown.name}"; its parts are: ${params.map((p) => p.name).join(', ') || 'none'}`);
  const items = (part: string) => message.items.filter((item) => item.name === part);
  for (const part of params) {
    const count = items(part.name).length;
    if (!isList(part) && count > 1) throw badRequest(`${operation}: part "${part.name}" is given more than once`);
    if ((part.kind === 'string' || part.kind === 'file') && count === 0) throw badRequest(`${operation}: part "${part.name}" is missing`);
  }
  return {
    items,
    text(part) {
      const [item] = items(part);
      if (item?.kind !== 'text') throw badRequest(`${operation}: part "${part}" must be a string`);
      if (!item.nil) return item.text;
      if (params.find((p) => p.name === part)?.check === 'nameOrAny') return '';
      throw badRequest(`${operation}: part "${part}" is null (xsi:nil), but it needs a value`);
    },
    texts(part) {
      return items(part).flatMap((item) => {
        if (item.kind !== 'text') throw badRequest(`${operation}: part "${part}" must be a list of strings`);
        return item.nil ? [] : [item.text];
      });
    },
  };
}

export function badRequest(message: string): GatewayError {
  return new GatewayError('GW_ERR_BAD_REQUEST', message);
}
