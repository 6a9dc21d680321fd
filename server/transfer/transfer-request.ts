import { type OperationName, TARGET_NAMESPACE, getOperation, isRelayed, operationNames } from '../../wsdl/operations';
import { GatewayError } from '../errors';
import type { MessageReaderOptions, ReceivedFile, ReceivedMessage } from './message-reader';

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
 * How the message reader recognises the request's parts. Children are matched by local name;
 * `argN`/`itemN`, as the original Axis2 client names them, stand for the N-th part.
 */
export function requestReaderOptions(
  maxMarkupChars: number,
  newFilePath: () => string,
): Omit<MessageReaderOptions, 'onBytes'> & { readonly operation: () => OperationName | undefined } {
  let operation: OperationName | undefined;
  return {
    operation: () => operation,
    maxMarkupChars,
    acceptFault: false,
    newFilePath,
    acceptBody(local, uri) {
      if (uri !== TARGET_NAMESPACE) return `the body element <${local}> is not in the namespace ${TARGET_NAMESPACE}`;
      if (!(operationNames as string[]).includes(local)) return `there is no operation "${local}"; the WSDL lists them`;
      operation = local as OperationName;
      return undefined;
    },
    partName(local) {
      const params = operation === undefined ? [] : getOperation(operation).params;
      const positional = /^(?:arg|item)(\d+)$/.exec(local);
      return positional && Number(positional[1]) < params.length ? params[Number(positional[1])].name : local;
    },
    isBinary(part) {
      const kind = operation === undefined ? undefined : getOperation(operation).params.find((p) => p.name === part)?.kind;
      return kind === 'file' || kind === 'files';
    },
  };
}

export interface TransferRequest {
  readonly operation: TransferOperationName;
  /** Whether it came as MTOM: the answer then comes as MTOM too. */
  readonly mtom: boolean;
  string(part: string): string;
  strings(part: string): string[];
  files(part: string): ReceivedFile[];
}

/** Checks the parts of a received transfer request against the table. */
export function toTransferRequest(operation: TransferOperationName, message: ReceivedMessage): TransferRequest {
  const params = getOperation(operation).params;
  const unknown = message.items.find((item) => !params.some((part) => part.name === item.name));
  if (unknown) throw badRequest(`${operation} takes no element "${unknown.name}"; its parts are: ${params.map((p) => p.name).join(', ')}`);
  const of = (part: string) => message.items.filter((item) => item.name === part);
  for (const part of params) {
    const items = of(part.name);
    if ((part.kind === 'string' || part.kind === 'file') && items.length !== 1) {
      throw badRequest(`${operation}: part "${part.name}" ${items.length === 0 ? 'is missing' : 'is given more than once'}`);
    }
  }
  return {
    operation,
    mtom: message.mtom,
    string(part) {
      const [item] = of(part);
      if (item?.kind !== 'text' || item.nil) throw badRequest(`${operation}: part "${part}" must be a string`);
      return item.text;
    },
    strings(part) {
      return of(part).flatMap((item) => {
        if (item.kind !== 'text') throw badRequest(`${operation}: part "${part}" must be a list of strings`);
        return item.nil ? [] : [item.text];
      });
    },
    files(part) {
      return of(part).map((item) => {
        if (item.kind !== 'file') throw badRequest(`${operation}: part "${part}" must hold file contents`);
        return item.file;
      });
    },
  };
}

export function badRequest(message: string): GatewayError {
  return new GatewayError('GW_ERR_BAD_REQUEST', message);
}
