import { PassThrough, type Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createInflate } from 'node:zlib';
import { Base64Decoder } from './base64-stream';
import { createFileSink, type FileSink } from './file-sink';
import { bareContentId, isMultipartRelated, isUtf8, isXmlText, parseMediaType } from './media-type';
import { MultipartReader, type PartConsumer, type PartHeaders } from './multipart-reader';
import { SoapStreamReader, type SoapStreamReaderOptions } from './soap-stream-reader';

/**
 * Reads a whole SOAP message that may carry files, MTOM or inline, from a stream (a request on
 * the gateway, a response on the client). Every file, attachment or inline, is written to a
 * new file as it arrives; the answer lists the message's parts in order with those files.
 * Nothing is answered unless the message arrived whole.
 */
export interface ReceivedFile {
  readonly path: string;
  readonly size: number;
  /** The Content-Location of its MTOM part, if it had one. */
  readonly location?: string;
}

export type ReceivedItem =
  | { readonly kind: 'text'; readonly name: string; readonly text: string; readonly nil: boolean; readonly structured?: boolean }
  | { readonly kind: 'file'; readonly name: string; readonly file: ReceivedFile };

export interface ReceivedMessage {
  readonly bodyElement: string | undefined;
  readonly fault: { readonly faultcode: string; readonly faultstring: string } | undefined;
  readonly items: readonly ReceivedItem[];
  readonly mtom: boolean;
}

export interface MessageReaderOptions extends Omit<SoapStreamReaderOptions<FileSink>, 'openInline'> {
  /** A path for the next received file, in a directory the caller removes afterwards. */
  newFilePath(): string;
  readonly fileMode?: number;
  /** Told the size of each piece of the (possibly compressed) message as it arrives. */
  onBytes?(bytes: number): void;
}

export class MessageError extends Error {
  override readonly name = 'MessageError';
}

interface Attachment {
  readonly sink: FileSink;
  readonly location?: string;
  size?: number;
}

export async function readMessage(
  source: Readable,
  headers: { readonly contentType?: string; readonly contentEncoding?: string },
  options: MessageReaderOptions,
): Promise<ReceivedMessage> {
  const mediaType = parseMediaType(headers.contentType);
  const openFile = () => createFileSink(options.newFilePath(), options.fileMode);
  const reader = new SoapStreamReader<FileSink>({ ...options, openInline: openFile });
  const attachments = new Map<string, Attachment>();
  const input = detached(source);
  const stages: (Transform | Writable)[] = [...decompression(headers.contentEncoding)];
  // Watching 'data' beside the pipe costs a call per chunk; a counting stage would cost a stream hop.
  if (options.onBytes) source.on('data', (chunk: Buffer) => options.onBytes!(chunk.length));
  const mtom = isMultipartRelated(mediaType);
  let rootSeen = false;
  try {
    if (mtom) {
      const boundary = mediaType.params.boundary;
      if (!boundary) throw new MessageError('the multipart/related message names no boundary');
      const start = mediaType.params.start === undefined ? undefined : bareContentId(mediaType.params.start);
      const onPart = (part: PartHeaders, index: number): PartConsumer => {
        const contentId = bareContentId(part['content-id'] ?? '');
        if (start === undefined ? index === 0 : contentId === start) {
          rootSeen = true;
          return rootConsumer(reader, part);
        }
        const attachment: Attachment = { sink: openFile(), location: part['content-location'] };
        attachments.set(contentId, attachment);
        return attachmentConsumer(attachment, part['content-transfer-encoding']);
      };
      await pipeline([input, ...stages, new MultipartReader(boundary, onPart)]);
      if (!rootSeen) throw new MessageError(`the multipart message holds no root part${start ? ` <${start}>` : ''}`);
    } else if (isXmlText(mediaType)) {
      if (!isUtf8(mediaType)) throw new MessageError(`only UTF-8 SOAP messages are read, not charset ${mediaType.params.charset}`);
      await pipeline([input, ...stages, textConsumer(reader)]);
    } else {
      throw new MessageError(`a SOAP message is text/xml or MTOM (multipart/related), not "${headers.contentType ?? 'none'}"`);
    }
    await reader.end();
  } catch (error) {
    source.unpipe(input);
    reader.abort();
    for (const attachment of attachments.values()) attachment.sink.abort();
    throw error;
  }
  const items = reader.items.map((item): ReceivedItem => {
    if (item.kind === 'text') return item;
    if (item.kind === 'inline') return { kind: 'file', name: item.name, file: { path: item.sink.path, size: item.sink.bytes } };
    const attachment = attachments.get(item.contentId);
    if (attachment?.size === undefined) throw new MessageError(`part "${item.name}" refers to cid:${item.contentId}, which the message does not hold`);
    return { kind: 'file', name: item.name, file: { path: attachment.sink.path, size: attachment.size, location: attachment.location } };
  });
  return { bodyElement: reader.bodyElement, fault: reader.fault, items, mtom };
}

/** Decodes UTF-8 pieces for the reader. */
function textFeeder(reader: SoapStreamReader<FileSink>): { write(chunk: Buffer): Promise<void>; end(): Promise<void> } {
  const decoder = new StringDecoder('utf8');
  return { write: (chunk) => reader.write(decoder.write(chunk)), end: () => reader.write(decoder.end()) };
}

function rootConsumer(reader: SoapStreamReader<FileSink>, part: PartHeaders): PartConsumer {
  const type = parseMediaType(part['content-type'] ?? 'application/xop+xml');
  if (!isUtf8(type)) throw new MessageError(`only UTF-8 SOAP messages are read, not charset ${type.params.charset}`);
  return textFeeder(reader);
}

function attachmentConsumer(attachment: Attachment, transferEncoding = 'binary'): PartConsumer {
  const encoding = transferEncoding.toLowerCase();
  const { sink } = attachment;
  if (encoding === 'base64') {
    const decoder = new Base64Decoder();
    return {
      write: (chunk) => sink.write(decoder.push(chunk.toString('latin1'))),
      end: async () => {
        await sink.write(decoder.end());
        attachment.size = await sink.close();
      },
      abort: () => sink.abort(),
    };
  }
  if (!['binary', '8bit', '7bit'].includes(encoding))
    throw new MessageError(`an MTOM part has Content-Transfer-Encoding ${transferEncoding}, which is not read`);
  return {
    write: (chunk) => sink.write(chunk),
    end: async () => {
      attachment.size = await sink.close();
    },
    abort: () => sink.abort(),
  };
}

function textConsumer(reader: SoapStreamReader<FileSink>): Writable {
  const feeder = textFeeder(reader);
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      feeder.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      feeder.end().then(() => callback(), callback);
    },
  });
}

/**
 * The source as the pipeline sees it. A pipeline that fails destroys its streams, and
 * destroying an HTTP request whose body is not read to its end resets the connection, so the
 * caller could not read the Fault that says what was wrong: the source is piped into a stream
 * of its own instead, which the pipeline may destroy. Its own end, or its failure, still ends
 * the pipeline: a connection closed before the body's end is an error.
 */
function detached(source: Readable): PassThrough {
  const input = new PassThrough({ highWaterMark: 256 * 1024 });
  source.on('error', (error) => input.destroy(error));
  source.on('close', () => {
    if (!source.readableEnded)
      input.destroy(Object.assign(new Error('the connection closed before the message was complete'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  });
  source.pipe(input);
  return input;
}

function decompression(encoding: string | undefined): Transform[] {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return [];
    case 'gzip':
    case 'x-gzip':
      return [createGunzip()];
    case 'deflate':
      return [createInflate()];
    default:
      throw new MessageError(`Content-Encoding ${encoding} is not read; send gzip, deflate or none`);
  }
}
