import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Base64Encoder, base64Length } from './base64-stream';

/**
 * Writes a SOAP message that carries files, streaming each file from disk: as MTOM (the
 * envelope in a root part, each file as a binary part it points at with xop:Include) or with
 * the files inline as base64 text, for SOAP stacks without MTOM. Both lengths are known up
 * front, so the message goes with a Content-Length that lets the receiver tell a cut-short
 * transfer from a complete one.
 */
export interface FileSegment {
  readonly path: string;
  readonly size: number;
  /** Sent as the part's Content-Location (MTOM only): the file's relative path, for checking. */
  readonly location?: string;
  /**
   * Runs once the whole file has been read, before the rest of the message goes: a sender that
   * removes the file then has done so before its receiver can hold the complete message.
   */
  readonly afterRead?: () => Promise<void>;
}

/** The envelope's text with the files where their content goes. */
export type Segment = string | FileSegment;

export type WireForm = 'mtom' | 'inline';

export interface EncodedMessage {
  readonly contentType: string;
  readonly length: number;
  /** A new stream of the message each time; fails if a file is shorter than announced. */
  stream(onFileBytes?: (bytes: number) => void): Readable;
}

const XOP_NS = 'http://www.w3.org/2004/08/xop/include';
// A multiple of 3, so that base64 encodes each chunk whole, without carrying bytes over.
const READ_CHUNK_BYTES = 3 * 349_525;

export function encodeMessage(segments: readonly Segment[], form: WireForm): EncodedMessage {
  return form === 'mtom' ? encodeMtom(segments) : encodeInline(segments);
}

type Piece = string | FileSegment;

function encodeMtom(segments: readonly Segment[]): EncodedMessage {
  const id = randomBytes(12).toString('hex');
  const boundary = `MIMEBoundary_${id}`;
  const rootId = `root.${id}@disnix`;
  const files = segments.filter((segment): segment is FileSegment => typeof segment !== 'string');
  const partId = (index: number) => `part${index}.${id}@disnix`;
  let index = 0;
  const root = segments
    .map((segment) => (typeof segment === 'string' ? segment : `<xop:Include xmlns:xop="${XOP_NS}" href="cid:${encodeURIComponent(partId(index++))}"/>`))
    .join('');
  const pieces: Piece[] = [
    `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\n` +
      `Content-Transfer-Encoding: binary\r\nContent-ID: <${rootId}>\r\n\r\n${root}`,
  ];
  files.forEach((file, i) => {
    const location = file.location === undefined ? '' : `Content-Location: ${encodeURI(file.location)}\r\n`;
    pieces.push(
      `\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n` + `Content-ID: <${partId(i)}>\r\n${location}\r\n`,
      file,
    );
  });
  pieces.push(`\r\n--${boundary}--\r\n`);
  const length = pieces.reduce((sum, piece) => sum + (typeof piece === 'string' ? Buffer.byteLength(piece) : piece.size), 0);
  return {
    contentType: `multipart/related; type="application/xop+xml"; start="<${rootId}>"; start-info="text/xml"; boundary="${boundary}"`,
    length,
    stream: (onFileBytes) => Readable.from(generate(pieces, false, onFileBytes), { objectMode: false }),
  };
}

function encodeInline(segments: readonly Segment[]): EncodedMessage {
  const length = segments.reduce((sum, s) => sum + (typeof s === 'string' ? Buffer.byteLength(s) : base64Length(s.size)), 0);
  return {
    contentType: 'text/xml; charset=utf-8',
    length,
    stream: (onFileBytes) => Readable.from(generate(segments, true, onFileBytes), { objectMode: false }),
  };
}

async function* generate(pieces: readonly Piece[], inline: boolean, onFileBytes?: (bytes: number) => void): AsyncGenerator<Buffer> {
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      yield Buffer.from(piece);
      continue;
    }
    const encoder = inline ? new Base64Encoder() : undefined;
    let read = 0;
    for await (const chunk of readChunks(piece.path, piece.size)) {
      read += chunk.length;
      onFileBytes?.(chunk.length);
      const out = encoder ? Buffer.from(encoder.push(chunk), 'latin1') : chunk;
      if (out.length > 0) yield out;
    }
    // A file that shrank would make the message shorter than its Content-Length: stop instead.
    if (read !== piece.size) throw new Error(`${piece.path} changed while it was being sent (${read} of ${piece.size} bytes)`);
    await piece.afterRead?.();
    const last = encoder?.end() ?? '';
    if (last !== '') yield Buffer.from(last, 'latin1');
  }
}

/**
 * The first `size` bytes of a file in fresh 1 MiB buffers (each is handed on, not reused), read
 * with plain positional reads: one stream layer less than a read stream, per MiB sent.
 */
async function* readChunks(path: string, size: number): AsyncGenerator<Buffer> {
  if (size === 0) return;
  const handle = await open(path, 'r');
  try {
    for (let position = 0; position < size; ) {
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
