import type { Readable, Transform, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
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
  /**
   * A sink of the caller's own for the next received file (the gateway imports a closure while
   * it arrives); undefined, or no such option: a new file at newFilePath().
   */
  openFile?(): FileSink | undefined;
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
  const openFile = () => options.openFile?.() ?? createFileSink(options.newFilePath(), options.fileMode);
  const reader = new SoapStreamReader<FileSink>({ ...options, openInline: openFile });
  const attachments = new Map<string, Attachment>();
  const mtom = isMultipartRelated(mediaType);
  let rootSeen = false;
  let input: Readable = source;
  let multipart: MultipartReader | undefined;
  // Counted where the bytes arrive, compressed or not; the listener joins the one that reads.
  if (options.onBytes) source.on('data', (chunk: Buffer) => options.onBytes!(chunk.length));
  try {
    const decompressor = decompression(headers.contentEncoding);
    if (decompressor !== undefined) input = decompressing(source, decompressor);
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
      multipart = new MultipartReader(boundary, onPart);
      await drain(input, writableSink(multipart));
      if (!rootSeen) throw new MessageError(`the multipart message holds no root part${start ? ` <${start}>` : ''}`);
    } else if (isXmlText(mediaType)) {
      if (!isUtf8(mediaType)) throw new MessageError(`only UTF-8 SOAP messages are read, not charset ${mediaType.params.charset}`);
      await drain(input, textFeeder(reader));
    } else {
      throw new MessageError(`a SOAP message is text/xml or MTOM (multipart/related), not "${headers.contentType ?? 'none'}"`);
    }
    await reader.end();
  } catch (error) {
    if (input !== source) source.unpipe(input as Transform);
    multipart?.destroy();
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
function textFeeder(reader: SoapStreamReader<FileSink>): ChunkSink {
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

/** Where a message's bytes go, chunk by chunk; a promise from `write` holds the next chunk back. */
interface ChunkSink {
  write(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

/**
 * Feeds a stream's chunks to a sink, one at a time (the stream waits while the sink does), then
 * its end; fails when the stream fails or closes before its end. Lighter than a pipeline of
 * streams, which cost more than the rest of reading a small call, and unlike a pipeline it never
 * destroys the source: destroying an HTTP request whose body was not read to its end resets the
 * connection, and the caller could not read the Fault that says what was wrong.
 */
function drain(source: Readable, sink: ChunkSink): Promise<void> {
  return new Promise((resolve, reject) => {
    let waiting = false;
    let ended = false;
    let settled = false;
    const stop = () => {
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', fail);
      source.off('close', onClose);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      stop();
      source.pause();
      reject(error);
    };
    const finish = () => {
      Promise.resolve()
        .then(() => sink.end())
        .then(() => {
          if (settled) return;
          stop();
          resolve();
        }, fail);
    };
    const onData = (chunk: Buffer) => {
      let written: void | Promise<void>;
      try {
        written = sink.write(chunk);
      } catch (error) {
        fail(error);
        return;
      }
      if (written === undefined) return;
      waiting = true;
      source.pause();
      written.then(() => {
        waiting = false;
        if (ended) finish();
        else if (!settled) source.resume();
      }, fail);
    };
    const onEnd = () => {
      ended = true;
      if (!waiting) finish();
    };
    const onClose = () => {
      if (!source.readableEnded) fail(prematureClose());
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', fail);
    source.on('close', onClose);
  });
}

/** A Writable (the multipart reader) as a sink: each write waits for its callback. */
function writableSink(writable: Writable): ChunkSink {
  // Its failures come back through the callbacks and `finished`; an 'error' event unheard would end the process.
  writable.on('error', () => undefined);
  return {
    write: (chunk) => new Promise((resolve, reject) => writable.write(chunk, (error) => (error ? reject(error) : resolve()))),
    end: () => {
      writable.end();
      return finished(writable);
    },
  };
}

/** The source piped through a decompressor, whose failure, or an early close, fails the decompressed stream. */
function decompressing(source: Readable, decompressor: Transform): Transform {
  source.on('error', (error) => decompressor.destroy(error));
  source.on('close', () => {
    if (!source.readableEnded) decompressor.destroy(prematureClose());
  });
  return source.pipe(decompressor);
}

function prematureClose(): Error {
  return Object.assign(new Error('the connection closed before the message was complete'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

function decompression(encoding: string | undefined): Transform | undefined {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw new MessageError(`Content-Encoding ${encoding} is not read; send br, gzip, deflate or none`);
  }
}
