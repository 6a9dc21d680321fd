import type { Readable } from 'node:stream';
import type { FileSink } from '../../protocol/codec/file-sink';
import { isMultipartRelated, isXmlText, parseMediaType } from '../../protocol/codec/media-type';
import { type MessageReaderOptions, type ReceivedItem, readMessage } from '../../protocol/codec/message-reader';
import { PositionalParts, isPositionalName } from '../../protocol/codec/positional-parts';
import { SoapReadError } from '../../protocol/codec/soap-stream-reader';
import { type OperationName, TARGET_NAMESPACE, getOperation, operationNames } from '../../protocol/operations';
import { GatewayError } from '../errors/error-catalogue';
import { uploadStorageError } from '../operations/upload-area';

/** A request as read: which operation it calls, in which form, and its parts (files already on disk). */
export interface ReceivedCall {
  readonly operation: OperationName;
  /** `positional`: the original Java client's `arg0`/`itemN` children (see positional-parts). */
  readonly form: 'document' | 'positional';
  /** Whether it came as MTOM: an answer with files then goes as MTOM too. */
  readonly mtom: boolean;
  readonly items: readonly ReceivedItem[];
}

/** The request as the reader needs it: an Express request, or any stream with its headers. */
export interface IncomingRequest extends Readable {
  readonly headers: { readonly [name: string]: string | string[] | undefined };
  readonly complete?: boolean;
}

export interface ReadOptions {
  /** --max-body-size: the most markup (everything but file contents) a request may have. */
  readonly maxBodyBytes: number;
  /** --upload-dir, for messages. */
  readonly uploadDir: string;
  /** Where received files go: the call's upload area. */
  newFilePath(): string;
  /** A sink of the call's own for a file of this operation instead (see MessageReaderOptions). */
  openFile?(operation: OperationName | undefined): FileSink | undefined;
  /** Told the size of each piece of the (possibly compressed) body as it arrives. */
  onBytes?(bytes: number): void;
}

/**
 * The gateway's one reader of SOAP requests: document/literal text/xml, MTOM, gzip or deflate,
 * bodies of any size or chunked, and the Java client's positional form, all read as they stream
 * in, once. File contents go to disk as they arrive; everything else is held to --max-body-size.
 * What cannot be read is a GatewayError whose code says why (unreadable, too large, wrong media
 * type, no room for the upload, the caller gone).
 */
export async function readRequest(req: IncomingRequest, options: ReadOptions): Promise<ReceivedCall> {
  const contentType = header(req, 'content-type');
  const mediaType = parseMediaType(contentType);
  if (!isXmlText(mediaType) && !isMultipartRelated(mediaType)) {
    throw new GatewayError('GW_ERR_MEDIA_TYPE', `a SOAP 1.1 request has Content-Type text/xml, not "${contentType || 'none'}"`);
  }
  const recognised = recognisedParts();
  try {
    const message = await readMessage(
      req,
      { contentType, contentEncoding: header(req, 'content-encoding') },
      {
        ...recognised.readerOptions,
        maxMarkupChars: options.maxBodyBytes,
        newFilePath: options.newFilePath,
        openFile: options.openFile && (() => options.openFile!(recognised.operation())),
        onBytes: options.onBytes,
      },
    );
    return { operation: recognised.operation()!, form: recognised.positional() ? 'positional' : 'document', mtom: message.mtom, items: message.items };
  } catch (error) {
    throw readError(req, error, options);
  }
}

function header(req: IncomingRequest, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

type RecognitionOptions = Omit<MessageReaderOptions, 'newFilePath' | 'openFile' | 'maxMarkupChars' | 'onBytes'>;

/**
 * How the reader recognises a request's parts while it streams in: the Body's element names an
 * operation of the table; its children are matched by local name, or, in the Java client's form
 * (`arg0`, `item3`, ...), by position. Which parts are files decides what goes to disk.
 */
export function recognisedParts(): { readonly readerOptions: RecognitionOptions; operation(): OperationName | undefined; positional(): boolean } {
  let operation: OperationName | undefined;
  let positions: PositionalParts | undefined;
  let positional = false;
  const partOf = (name: string) => (operation === undefined ? undefined : getOperation(operation).params.find((p) => p.name === name));
  return {
    operation: () => operation,
    positional: () => positional,
    readerOptions: {
      noun: 'the request',
      acceptFault: false,
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
        // A number beyond the parts keeps its name, which the argument check then reports as unknown.
        return positions.partOf(local, nil)?.name ?? local;
      },
      isBinary(part) {
        const kind = partOf(part)?.kind;
        return kind === 'file' || kind === 'files';
      },
    },
  };
}

const STORAGE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EROFS', 'EMFILE']);

function readError(req: IncomingRequest, error: unknown, options: ReadOptions): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof SoapReadError && error.reason === 'tooLarge') {
    return new GatewayError(
      'GW_ERR_TOO_LARGE',
      `the request is larger than the ${options.maxBodyBytes} bytes accepted (--max-body-size); file contents do not count`,
    );
  }
  // The reader's own refusals already say what is wrong with the request.
  if (error instanceof SoapReadError) return new GatewayError('GW_ERR_UNREADABLE', error.message, { cause: error });
  const code = (error as NodeJS.ErrnoException)?.code;
  if (req.complete === false && (req.destroyed || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE')) {
    return new GatewayError('GW_ERR_CALLER_GONE', 'the caller went away before its request was read; nothing was imported');
  }
  if (code !== undefined && STORAGE_ERRORS.has(code)) return uploadStorageError(options.uploadDir, error);
  // A multipart, base64 or MIME problem, or a compressed body that does not decompress.
  const reason = code?.startsWith('Z_') ? `its compressed body cannot be read (${(error as Error).message})` : ((error as Error)?.message ?? String(error));
  return new GatewayError('GW_ERR_UNREADABLE', `the request cannot be read: ${reason}`, { cause: error });
}
