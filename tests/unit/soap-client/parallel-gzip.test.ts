import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createGunzip, gunzipSync } from 'node:zlib';
import { parallelGzip } from '../../../soap-client/parallel-gzip';

const MiB = 1024 * 1024;

/** Compressible and not: text and random bytes in turns, fed in pieces of uneven size. */
function content(bytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes; at += 300_000) parts.push(at % 600_000 === 0 ? Buffer.from('lib/libexample.so.1 '.repeat(15_000)) : randomBytes(300_000));
  return Buffer.concat(parts).subarray(0, bytes);
}

function pieces(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, size = 1; at < data.length; at += size, size = (size * 7 + 13) % 200_000 || 1) out.push(data.subarray(at, at + size));
  return out;
}

describe('parallelGzip', () => {
  it.each([0, 1, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 19 * MiB + 12345])(
    '%d bytes come back whole through gunzip, as several members where more than a block',
    async (bytes) => {
      const data = content(bytes);
      const compressed = await buffer(Readable.from(pieces(data)).pipe(parallelGzip(1, 3)));
      expect(gunzipSync(compressed).equals(data)).toBe(true);
      // Streamed too, as the gateway reads a request.
      expect((await buffer(Readable.from([compressed]).pipe(createGunzip()))).equals(data)).toBe(true);
      // A member per block: a block closes at the first piece that brings it to 4 MiB (pieces here are under 200 kB).
      const members = compressed.toString('latin1').split('\x1f\x8b\x08').length - 1;
      expect(members).toBeGreaterThanOrEqual(Math.max(1, Math.floor(bytes / (4 * MiB + 200_000))));
    },
  );

  it('compresses what compresses', async () => {
    const text = Buffer.from('lib/libexample.so.1 '.repeat(600_000));
    const compressed = await buffer(Readable.from([text]).pipe(parallelGzip()));
    expect(compressed.length).toBeLessThan(text.length / 10);
  });

  it('ends with the error of its source', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk gone'));
      },
    });
    const gzip = parallelGzip();
    failing.on('error', (error) => gzip.destroy(error));
    await expect(buffer(failing.pipe(gzip))).rejects.toThrow('disk gone');
  });
});
