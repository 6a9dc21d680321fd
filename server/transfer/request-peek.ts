import type { IncomingMessage } from 'node:http';
import { SaxesParser } from 'saxes';
import { StringDecoder } from 'node:string_decoder';
import { isPositionalName } from '../../protocol/codec/positional-parts';

/** The operation a request calls, and whether its parts come in the Java client's positional form. */
export interface PeekedCall {
  readonly operation: string;
  readonly positional: boolean;
}

/**
 * Finds which operation a text/xml request calls by reading only the start of its body, then
 * puts those bytes back (`unshift`), so a request that is not a transfer goes on to
 * express.text and the envelope check exactly as if nobody had looked.
 *
 * Answers the local name of the Body's element and the form of its first child, or undefined
 * when the start does not tell (malformed, not that far within `limit` bytes): then too the
 * request goes on unchanged and the regular path reports what is wrong with it.
 */
export function peekOperation(req: IncomingMessage, limit: number): Promise<PeekedCall | undefined> {
  const chunks: Buffer[] = [];
  let seen = 0;
  let operation: string | undefined;
  let found: PeekedCall | undefined;
  let undecidable = false;
  const decoder = new StringDecoder('utf8');
  const parser = new SaxesParser({ xmlns: false, position: false });
  const path: string[] = [];
  parser.on('opentag', (tag) => {
    path.push(tag.name.slice(tag.name.indexOf(':') + 1));
    if (path.length === 3 && path[1] === 'Body') operation ??= path[2];
    if (path.length === 4 && operation !== undefined) found ??= { operation, positional: isPositionalName(path[3]) };
  });
  parser.on('closetag', () => {
    if (path.length === 3 && operation !== undefined) found ??= { operation, positional: false };
    path.pop();
  });
  parser.on('doctype', () => (undecidable = true));

  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', finish);
      if (error) return reject(error);
      if (chunks.length > 0) {
        const consumed = Buffer.concat(chunks);
        // After 'end' the bytes cannot be put back; hand them on as the parsed body instead,
        // which express.text then leaves alone (the stream is finished).
        if (req.readableEnded) (req as IncomingMessage & { body?: unknown }).body = consumed.toString('utf8');
        else req.unshift(consumed);
      }
      resolve(found);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (found === undefined && !undecidable && seen < limit && (chunk = req.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        seen += chunk.length;
        try {
          parser.write(decoder.write(chunk));
        } catch {
          undecidable = true;
        }
      }
      if (found !== undefined || undecidable || seen >= limit) finish();
    };
    const onEnd = () => finish();
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', finish);
  });
}
