/**
 * The streaming readers and writers of the transfer path, fed in every way a network can slice
 * a message: whatever the chunk boundaries, the same parts and bytes come out; a message cut
 * short never passes for a whole one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Base64Decoder, Base64Encoder, base64Length } from '../../../../protocol/codec/base64-stream';
import { readMessage, type ReceivedMessage } from '../../../../protocol/codec/message-reader';
import { encodeMessage } from '../../../../protocol/codec/message-writer';
import { MultipartReader } from '../../../../protocol/codec/multipart-reader';
import { pathSetProblem, relativePathProblem } from '../../../../protocol/snapshot-paths';
import { recognisedParts } from '../../../../server/call/read-request';

/** The gateway's recognition of request parts, with a markup limit and a place for files. */
const requestReaderOptions = (maxMarkupChars: number, newFilePath: () => string) => ({ ...recognisedParts().readerOptions, maxMarkupChars, newFilePath });
import { inlineRequest, mtomRequest } from '../../../../testing/transfer-wire';

function slices(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function readParts(body: Buffer, boundary: string, chunk: number): Promise<{ headers: Record<string, string | undefined>; data: Buffer }[]> {
  const parts: { headers: Record<string, string | undefined>; data: Buffer[] }[] = [];
  const reader = new MultipartReader(boundary, (headers) => {
    const part = { headers: { ...headers }, data: [] as Buffer[] };
    parts.push(part);
    return { write: (c) => void part.data.push(Buffer.from(c)), end: () => undefined };
  });
  await pipeline(Readable.from(slices(body, chunk)), reader);
  return parts.map((part) => ({ headers: part.headers, data: Buffer.concat(part.data) }));
}

describe('MultipartReader', () => {
  const boundary = 'MIMEBoundary_abc';
  // Content that looks like the start of a delimiter, to trip a naive boundary search.
  const tricky = Buffer.from(`x\r\n--MIMEBoundary_ab\r\n--MIMEBoundary_abX\r\r\n-\r\n--MIME\r`);
  const binary = randomBytes(3000);
  const body = Buffer.concat([
    Buffer.from(`preamble to ignore\r\n--${boundary}\r\nContent-ID: <a>\r\nContent-Type: text/plain\r\n\r\n`),
    tricky,
    Buffer.from(`\r\n--${boundary}  \r\nContent-ID: <b>\r\n\r\n`),
    binary,
    Buffer.from(`\r\n--${boundary}\r\n\r\n`), // a part without headers, and empty
    Buffer.from(`\r\n--${boundary}--\r\nepilogue to ignore`),
  ]);

  it.each([1, 2, 3, 5, 7, 13, 64, 1000, body.length])('finds the same parts in chunks of %i bytes', async (size) => {
    const parts = await readParts(body, boundary, size);
    expect(parts.map((part) => part.headers['content-id'])).toEqual(['<a>', '<b>', undefined]);
    expect(parts[0].data.equals(tricky)).toBe(true);
    expect(parts[1].data.equals(binary)).toBe(true);
    expect(parts[2].data.length).toBe(0);
  });

  it('a body without its closing delimiter is an error, wherever it is cut', async () => {
    for (const cut of [10, 60, 200, body.length - 30, body.length - 22]) {
      await expect(readParts(body.subarray(0, cut), boundary, 97)).rejects.toThrow(/cut short/);
    }
  });

  it('refuses an invalid boundary', () => {
    expect(() => new MultipartReader('a\r\nb', () => ({ write() {}, end() {} }))).toThrow(/not a valid one/);
  });
});

describe('base64 in pieces', () => {
  const data = randomBytes(10_000);
  const text = data.toString('base64').replace(/.{76}/g, '$&\r\n');

  it.each([1, 2, 3, 4, 5, 77, 4096])('decodes the same bytes from slices of %i characters', (size) => {
    const decoder = new Base64Decoder();
    const out: Buffer[] = [];
    for (let i = 0; i < text.length; i += size) out.push(decoder.push(text.slice(i, i + size)));
    out.push(decoder.end());
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it.each([
    ['YW*j', /outside the base64 alphabet/],
    ['YQ==YWJj', /after its padding|before its end/],
    ['Y', /middle of a byte/],
  ])('refuses %j', (input, message) => {
    const decoder = new Base64Decoder();
    expect(() => {
      decoder.push(input);
      decoder.end();
    }).toThrow(message);
  });

  it('encodes chunks of any length as one base64 text', () => {
    const encoder = new Base64Encoder();
    let out = '';
    for (const size of [1, 2, 5, 1000, 3, 8992]) out += encoder.push(data.subarray(0, size));
    out += encoder.end();
    const whole = Buffer.concat([1, 2, 5, 1000, 3, 8992].map((size) => data.subarray(0, size)));
    expect(out).toBe(whole.toString('base64'));
    expect(base64Length(whole.length)).toBe(out.length);
  });
});

describe('readMessage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'codec-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  let n = 0;
  async function read(contentType: string, body: Buffer, chunk: number): Promise<ReceivedMessage> {
    const options = requestReaderOptions(1024 * 1024, () => join(dir, `f${n++}`));
    return readMessage(Readable.from(slices(body, chunk)), { contentType }, options);
  }

  const files = [randomBytes(5000), Buffer.alloc(0), Buffer.from('<&>')];
  const parts = [
    ['container', 'pg & co'],
    ['component', 'db'],
    ['snapshot', 'snap'],
    ...files.map((file) => ['content', file] as const),
    ['path', 'a/b'],
    ['path', 'empty'],
    ['path', 'x <y>'],
  ] as const;

  it.each([
    ['inline', 1],
    ['inline', 7],
    ['inline', 4096],
    ['mtom', 1],
    ['mtom', 7],
    ['mtom', 4096],
  ] as const)('%s in chunks of %i bytes: the same parts, the same bytes', async (form, chunk) => {
    const request = (form === 'mtom' ? mtomRequest : inlineRequest)('importLocalSnapshots', parts);
    const message = await read(request.contentType, request.body, chunk);
    expect(message.bodyElement).toBe('importLocalSnapshots');
    expect(message.mtom).toBe(form === 'mtom');
    const texts = message.items.flatMap((item) => (item.kind === 'text' ? [[item.name, item.text]] : []));
    expect(texts).toEqual([
      ['container', 'pg & co'],
      ['component', 'db'],
      ['snapshot', 'snap'],
      ['path', 'a/b'],
      ['path', 'empty'],
      ['path', 'x <y>'],
    ]);
    const received = message.items.flatMap((item) => (item.kind === 'file' ? [item.file] : []));
    expect(received.map((file) => file.size)).toEqual(files.map((file) => file.length));
    for (const [i, file] of received.entries()) expect((await readFile(file.path)).equals(files[i])).toBe(true);
  });

  it('what the gateway writes, it reads back (MTOM and inline)', async () => {
    const source = join(dir, 'source');
    const data = randomBytes(3 * 1024 * 1024 + 5);
    await (await import('node:fs/promises')).writeFile(source, data);
    for (const form of ['mtom', 'inline'] as const) {
      const message = encodeMessage(
        [
          '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><t:importLocalFile xmlns:t="http://service.disnix.nixos.org"><t:closure>',
          { path: source, size: data.length },
          '</t:closure></t:importLocalFile></s:Body></s:Envelope>',
        ],
        form,
      );
      const chunks: Buffer[] = [];
      for await (const chunk of message.stream()) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      expect(body.length).toBe(message.length);
      const read = await readMessage(
        Readable.from([body]),
        { contentType: message.contentType },
        requestReaderOptions(1024, () => join(dir, `${form}-back`)),
      );
      const [item] = read.items;
      expect(item.kind === 'file' && (await readFile(item.file.path)).equals(data)).toBe(true);
    }
  });

  it('refuses a DTD, SOAP 1.2, an unknown operation, and markup beyond the limit', async () => {
    const cases: [string, RegExp][] = [
      ['<!DOCTYPE x [<!ENTITY a "b">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"/>', /DTD/],
      ['<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>', /SOAP 1\.2 is not served/],
      [inlineRequest('frobnicate', []).body.toString(), /there is no operation "frobnicate"/],
      [inlineRequest('exportRemoteFile', [['derivation', 'x'.repeat(2 * 1024 * 1024)]]).body.toString(), /larger than the 1048576 bytes accepted/],
    ];
    for (const [xml, message] of cases) await expect(read('text/xml', Buffer.from(xml), 512)).rejects.toThrow(message);
  });
});

describe('relative paths of snapshot files', () => {
  it.each([
    ['a', undefined],
    ['a/b/c.txt', undefined],
    ['with space/ünï', undefined],
    ['', /empty/],
    ['/etc/passwd', /absolute/],
    ['../x', /outside/],
    ['a/../../x', /outside/],
    ['a/./b', /"\." segment/],
    ['a//b', /empty or/],
    ['a/', /empty or/],
    ['a\nb', /control characters/],
  ])('%j', (path, problem) => {
    const found = relativePathProblem(path);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  it('a set may not name a file twice, nor use a file as a directory', () => {
    expect(pathSetProblem(['a', 'b/c', 'b/d'])).toBeUndefined();
    expect(pathSetProblem(['a', 'a'])).toMatch(/twice/);
    expect(pathSetProblem(['a/b/c', 'a/b'])).toMatch(/both a file and the directory/);
  });
});
