/**
 * The two halves of the Java client's wire format that the Axis2 replay test relies on: the
 * request writer names arguments as Axis2's BeanUtil does, and the answer reader accepts what
 * the Java client accepts and refuses what it would choke on. Without these, the replay test
 * could pass on a writer or reader that agrees with the gateway for the wrong reasons.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { HttpAnswer } from '../../../testing/axis2-http';
import { type Axis2Arg, axis2Request, dataHandler } from '../../../testing/axis2-request';
import { Axis2Fault, readAxis2Answer } from '../../../testing/axis2-response';

const options = { seed: 'unit', path: '/svc', host: '127.0.0.1:1' };

/** The request's head, its chunk sizes and its decoded MIME package. */
function decode(request: Buffer): { head: string; chunkSizes: number[]; mime: string } {
  const headEnd = request.indexOf('\r\n\r\n');
  const chunks: Buffer[] = [];
  const chunkSizes: number[] = [];
  let at = headEnd + 4;
  for (;;) {
    const eol = request.indexOf('\r\n', at);
    const size = parseInt(request.toString('latin1', at, eol), 16);
    chunkSizes.push(size);
    if (size === 0) {
      expect(request.subarray(eol).toString('latin1')).toBe('\r\n\r\n');
      break;
    }
    chunks.push(request.subarray(eol + 2, eol + 2 + size));
    expect(request.toString('latin1', eol + 2 + size, eol + 4 + size)).toBe('\r\n');
    at = eol + 4 + size;
  }
  return { head: request.toString('latin1', 0, headEnd), chunkSizes, mime: gunzipSync(Buffer.concat(chunks)).toString('latin1') };
}

const children = (operation: string, args: readonly Axis2Arg[]) => {
  const { mime } = decode(axis2Request(operation, args, options));
  return new RegExp(`<${operation} xmlns="http://service.disnix.nixos.org">(.*)</${operation}>`).exec(mime)?.[1];
};

describe('requests as Axis2 RPCServiceClient writes them', () => {
  test('scalars are argN, array elements itemN, both counted by argument', () => {
    expect(children('set', ['p', '/s/x'])).toBe('<arg0 xmlns="">p</arg0><arg1 xmlns="">/s/x</arg1>');
    expect(children('export', [['a', 'b']])).toBe('<item0 xmlns="">a</item0><item0 xmlns="">b</item0>');
    expect(children('activate', ['d', 'c', 't', ['x=1']])).toBe(
      '<arg0 xmlns="">d</arg0><arg1 xmlns="">c</arg1><arg2 xmlns="">t</arg2><item3 xmlns="">x=1</item3>',
    );
    expect(children('collectGarbage', [true])).toBe('<arg0 xmlns="">true</arg0>');
    expect(children('captureConfig', [])).toBe('');
  });

  test('an empty array is nothing, but still takes its number', () => {
    expect(children('activate', ['d', 'c', 't', []])).toBe('<arg0 xmlns="">d</arg0><arg1 xmlns="">c</arg1><arg2 xmlns="">t</arg2>');
    expect(children('importSnapshots', ['c', 'k', []])).toBe('<arg0 xmlns="">c</arg0><arg1 xmlns="">k</arg1>');
  });

  test('a null is a nil itemN that does not advance N', () => {
    const nil = (n: number) => `<item${n} xmlns="" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>`;
    expect(children('cleanSnapshots', [3, null, null])).toBe(`<arg0 xmlns="">3</arg0>${nil(1)}${nil(1)}`);
    expect(children('importSnapshots', [null, 'k', ['/a']])).toBe(`${nil(0)}<arg0 xmlns="">k</arg0><item1 xmlns="">/a</item1>`);
  });

  test('text is escaped', () => {
    expect(children('lock', ['a<&>b'])).toBe('<arg0 xmlns="">a&lt;&amp;&gt;b</arg0>');
  });

  test('files are xop:Includes of binary parts, in argument order', () => {
    const a = Buffer.from([0, 13, 10, 45, 45, 255]);
    const b = Buffer.from('second');
    const { mime } = decode(axis2Request('importLocalSnapshots', ['c', 'k', '/s', [dataHandler(a), dataHandler(b)], ['/s/a', '/s/b']], options));
    const hrefs = [
      ...mime.matchAll(/<item3 xmlns=""><xop:Include xmlns:xop="http:\/\/www\.w3\.org\/2004\/08\/xop\/include" href="cid:([^"]+)"\/><\/item3>/g),
    ].map((m) => m[1]);
    expect(hrefs).toHaveLength(2);
    hrefs.forEach((id, index) => {
      const content = (index === 0 ? a : b).toString('latin1');
      expect(mime).toContain(`Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${id}>\r\n\r\n${content}\r\n--`);
    });
    expect(mime).toMatch(/<item4 xmlns="">\/s\/a<\/item4><item4 xmlns="">\/s\/b<\/item4>/);
  });

  test('the head and the MIME package are Axis2 1.8 with httpclient4; the body is chunked gzip', () => {
    const request = axis2Request('lock', ['p'], options);
    const { head, chunkSizes, mime } = decode(request);
    const boundary = /boundary="(MIMEBoundary_[0-9a-f]+)"/.exec(head)?.[1];
    const start = /start="<(0\.urn:uuid:[0-9a-f-]+@apache\.org)>"/.exec(head)?.[1];
    expect(boundary).toBeDefined();
    expect(start).toBeDefined();
    expect(head.split('\r\n')).toEqual([
      'POST /svc HTTP/1.1',
      `Content-Type: multipart/related; boundary="${boundary}"; type="application/xop+xml"; start="<${start}>"; start-info="text/xml"`,
      'SOAPAction: ""',
      'Content-Encoding: gzip',
      'Accept-Encoding: gzip',
      'User-Agent: Axis2',
      'Transfer-Encoding: chunked',
      'Host: 127.0.0.1:1',
      'Connection: Keep-Alive',
    ]);
    expect(chunkSizes[chunkSizes.length - 1]).toBe(0);
    expect(
      mime.startsWith(
        `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${start}>\r\n\r\n<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope`,
      ),
    ).toBe(true);
    expect(mime).toContain('<soapenv:Header/><soapenv:Body>');
    expect(mime.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
  });

  test('large bodies go in chunks of at most 2048 bytes', () => {
    const { chunkSizes } = decode(axis2Request('importLocalFile', [dataHandler(randomBytes(20_000))], options));
    expect(chunkSizes.length).toBeGreaterThan(3);
    expect(Math.max(...chunkSizes)).toBe(2048);
  });

  test('the seed alone decides boundary and Content-IDs', () => {
    expect(axis2Request('lock', ['p'], options).equals(axis2Request('lock', ['p'], options))).toBe(true);
    expect(axis2Request('lock', ['p'], options).equals(axis2Request('lock', ['p'], { ...options, seed: 'other' }))).toBe(false);
  });
});

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';
const xmlAnswer = (body: string, status = 200, headers: Record<string, string> = {}): HttpAnswer => ({
  status,
  headers: { 'content-type': 'text/xml; charset=utf-8', ...headers },
  body: Buffer.from(`<?xml version="1.0"?><s:Envelope xmlns:s="${SOAP}"><s:Body>${body}</s:Body></s:Envelope>`),
});

function mtomAnswer(body: string, parts: Record<string, Buffer>): HttpAnswer {
  const boundary = 'MIMEBoundary_unit';
  const root = `<?xml version="1.0"?><s:Envelope xmlns:s="${SOAP}"><s:Body>${body}</s:Body></s:Envelope>`;
  const chunks: Buffer[] = [
    Buffer.from(`--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\nContent-ID: <root@unit>\r\n\r\n${root}`),
  ];
  for (const [id, data] of Object.entries(parts))
    chunks.push(Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-ID: <${id}>\r\n\r\n`), data);
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return {
    status: 200,
    headers: { 'content-type': `multipart/related; boundary="${boundary}"; type="application/xop+xml"; start="<root@unit>"; start-info="text/xml"` },
    body: Buffer.concat(chunks),
  };
}

describe('answers read as the Java client reads them', () => {
  const list = '<r:anyResponse xmlns:r="urn:x"><r:whatever>a</r:whatever><r:whatever>b</r:whatever></r:anyResponse>';

  test('by position, whatever the names', async () => {
    expect((await readAxis2Answer(xmlAnswer(list), 'String[]')).value).toEqual(['a', 'b']);
    expect((await readAxis2Answer(xmlAnswer(list), 'String')).value).toBe('a');
    expect((await readAxis2Answer(xmlAnswer('<w/>'), 'String[]')).value).toEqual([]);
    expect((await readAxis2Answer(xmlAnswer('<w><a>1</a><b>2</b></w>'), 'String[]')).value).toEqual(['1']);
    expect((await readAxis2Answer(xmlAnswer('<w><return>0</return></w>'), 'void')).firstText).toBe('0');
  });

  test('gzip-compressed answers', async () => {
    const plain = xmlAnswer(list);
    const gzipped: HttpAnswer = { ...plain, headers: { ...plain.headers, 'content-encoding': 'gzip' }, body: gzipSync(plain.body) };
    expect((await readAxis2Answer(gzipped, 'String[]')).value).toEqual(['a', 'b']);
  });

  test('a Fault is an error with its faultstring, if its faultcode prefix is declared', async () => {
    const fault = (code: string) => xmlAnswer(`<s:Fault><faultcode>${code}</faultcode><faultstring>it &amp; failed</faultstring></s:Fault>`, 500);
    const error = await readAxis2Answer(fault('s:Server'), 'void').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Axis2Fault);
    expect((error as Axis2Fault).faultstring).toBe('it & failed');
    await expect(readAxis2Answer(fault('soap:Server'), 'void')).rejects.toThrow(/prefix that is not declared/);
    await expect(readAxis2Answer(fault('Server'), 'void')).rejects.toThrow(/not a prefixed QName/);
  });

  test('files inline as base64 or as xop:Include, alone or as a list', async () => {
    const data = Buffer.from([0, 1, 2, 254, 255]);
    expect((await readAxis2Answer(xmlAnswer(`<w><return>${data.toString('base64')}</return></w>`), 'DataHandler')).value).toEqual(data);
    const include = (id: string) => `<return><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:${encodeURIComponent(id)}"/></return>`;
    const two = mtomAnswer(`<w>${include('1@x')}${include('2@x')}</w>`, { '1@x': data, '2@x': Buffer.from('two') });
    expect((await readAxis2Answer(two, 'DataHandler[]')).value).toEqual([data, Buffer.from('two')]);
    expect((await readAxis2Answer(two, 'DataHandler')).value).toEqual(data);
  });

  test('refuses what the Java client cannot read', async () => {
    const spaced = mtomAnswer('<w><return> <xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:1@x"/></return></w>', {
      '1@x': Buffer.from('x'),
    });
    await expect(readAxis2Answer(spaced, 'DataHandler')).rejects.toThrow(/white space before an xop:Include/);
    const dangling = mtomAnswer('<w><return><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:9@x"/></return></w>', {});
    await expect(readAxis2Answer(dangling, 'DataHandler')).rejects.toThrow(/names no part/);
    await expect(readAxis2Answer({ ...xmlAnswer(list), headers: { 'content-type': 'application/json' } }, 'String')).rejects.toThrow(/text\/xml or MTOM/);
    await expect(readAxis2Answer(xmlAnswer(''), 'String')).rejects.toThrow(/no element in soapenv:Body/);
  });
});
