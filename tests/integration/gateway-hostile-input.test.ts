import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { type RawAnswer, callRaw, postRaw } from '../../testing/raw-soap';
import { basicAuthHeader, envelope } from '../../testing/soap-test-client';

/**
 * SOAP input meant to hurt: wrong arguments, external entities, entity expansion, bodies
 * beyond --max-body-size. Each gets a Fault or a 4xx that says what is wrong; no file or URL
 * is read, memory stays bounded, and the gateway keeps serving.
 */
const MAX_BODY = 256 * 1024;

const env = useGatewayEnvironment({ gatewayArgs: ['--max-body-size', String(MAX_BODY)] });
let auth: { username: string; password: string };
let jobs = 0;
const countJob = () => (jobs += 1);

beforeAll(async () => {
  auth = { username: env.username, password: env.password };
  env.gateway.relay.on('started', countJob);
});

const post = (body: string | Buffer) => postRaw(env.url, body, auth);

function expectClientFault(answer: RawAnswer, status: number, message: RegExp): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toMatch(/<soap:Fault><faultcode>soap:Client<\/faultcode>/);
  expect(answer.faultstring).toMatch(message);
}

describe('missing, extra and wrongly typed arguments are refused before any job runs', () => {
  test.each<[string, string, string, number, RegExp]>([
    ['a missing string part', 'set', '<ns:profile>p</ns:profile>', 500, /set: part "derivation" is missing/],
    ['an empty operation element', 'queryInstalled', '', 500, /queryInstalled: part "profile" is missing/],
    ['an extra part', 'lock', '<ns:profile>p</ns:profile><ns:force>true</ns:force>', 500, /lock takes no element "force"; its parts are: profile/],
    ['a string part given twice', 'lock', '<ns:profile>a</ns:profile><ns:profile>b</ns:profile>', 500, /lock: part "profile" is given more than once/],
    [
      'xsi:nil for a string part that needs a value',
      'lock',
      '<ns:profile xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>',
      500,
      /lock: part "profile" is null \(xsi:nil\), but it needs a value/,
    ],
    [
      'a structure for a string',
      'set',
      '<ns:profile><ns:x>1</ns:x></ns:profile><ns:derivation>/d</ns:derivation>',
      500,
      /part "profile" must be a string, not a structure/,
    ],
    ['structures in a string list', 'realise', '<ns:derivation><ns:a>1</ns:a></ns:derivation>', 500, /part "derivation" must be a list of strings/],
    ['a boolean that is not one', 'collectGarbage', '<ns:deleteOld>maybe</ns:deleteOld>', 500, /part "deleteOld" must be true or false, not "maybe"/],
    [
      'a boolean that is null',
      'collectGarbage',
      '<ns:deleteOld xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>',
      500,
      /part "deleteOld" is null \(xsi:nil\), but it needs a value/,
    ],
    ['an integer beyond 32 bits', 'cleanSnapshots', '<ns:keep>4294967296</ns:keep><ns:container/><ns:component/>', 500, /part "keep" must be a 32-bit integer/],
    [
      'an integer in exponent form',
      'cleanSnapshots',
      '<ns:keep>1e3</ns:keep><ns:container/><ns:component/>',
      500,
      /part "keep" must be a 32-bit integer, not "1e3"/,
    ],
  ])('%s', async (_name, operation, inner, status, message) => {
    const before = jobs;
    expectClientFault(await callRaw(env.url, operation, inner, auth), status, message);
    expect(jobs).toBe(before);
  });
});

describe('entities', () => {
  let canary: Server;
  let canaryHits = 0;
  let canaryUrl: string;
  beforeAll(async () => {
    canary = createServer((_req, res) => {
      canaryHits += 1;
      res.end('<!ENTITY leak "CANARY-CONTENT">');
    });
    await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
    canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}/evil.dtd`;
  });
  afterAll(() => new Promise<void>((resolve) => canary.close(() => resolve())));

  const lockWith = (prolog: string, profile: string) => prolog + envelope('lock', `<ns:profile>${profile}</ns:profile>`);

  test.each<[string, () => string]>([
    ['an external entity naming /etc/passwd', () => lockWith('<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', '&xxe;')],
    ['an external entity naming a URL', () => lockWith(`<!DOCTYPE e [<!ENTITY xxe SYSTEM "${canaryUrl}">]>`, '&xxe;')],
    ['an external parameter entity', () => lockWith(`<!DOCTYPE e [<!ENTITY % dtd SYSTEM "${canaryUrl}"> %dtd;]>`, '&leak;')],
    ['an external DTD', () => lockWith(`<!DOCTYPE soapenv:Envelope SYSTEM "${canaryUrl}">`, '&leak;')],
  ])('%s: refused as a DTD; nothing is read or fetched', async (_name, body) => {
    const answer = await post(body());
    expectClientFault(answer, 400, /the request has a DTD; DTDs and entity declarations are not accepted/);
    expect(answer.body).not.toMatch(/root:|CANARY-CONTENT/);
    expect(canaryHits).toBe(0);
  });

  test('elements nested deeper than any call needs are refused before they cost quadratic time', async () => {
    const deep = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>${'<a>'.repeat(60_000)}`;
    expectClientFault(await post(deep), 400, /./);
    const closed = envelope('lock', `<ns:profile>${'<x>'.repeat(40)}${'</x>'.repeat(40)}</ns:profile>`);
    expectClientFault(await post(closed), 400, /nests elements more than 32 deep/);
  });

  test('an entity used without any declaration is not well-formed XML', async () => {
    expectClientFault(await post(lockWith('', '&xxe;')), 400, /not well-formed XML/);
  });

  test('"billion laughs" is refused at once and expands nothing', async () => {
    const levels = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('');
    const body = lockWith(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${levels}]>`, '&lol9;');
    const heapBefore = process.memoryUsage().heapUsed;
    const answer = await post(body);
    expectClientFault(answer, 400, /DTDs and entity declarations are not accepted/);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });
});

/**
 * Sends `total` bytes, an envelope whose Body fills up with text, in chunks of one reused buffer,
 * with or without a Content-Length: well-formed as far as it goes, so only its size is wrong.
 */
function postLarge(total: number, chunked: boolean): Promise<{ status: number; body: string }> {
  const start = Buffer.from('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>');
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const headers: Record<string, string> = { 'Content-Type': 'text/xml', Authorization: basicAuthHeader(auth.username, auth.password) };
  if (!chunked) headers['Content-Length'] = String(total);
  return new Promise((resolve, reject) => {
    const req = httpRequest(env.url, { method: 'POST', headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (data: Buffer) => (body += data.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.write(start);
    let sent = start.length;
    const pump = () => {
      while (sent < total) {
        const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('bodies beyond --max-body-size', () => {
  test.each([
    ['announced by Content-Length', false],
    ['sent chunked, without a length', true],
  ])('%s: 413 with a Fault naming the limit', async (_name, chunked) => {
    const answer = await postLarge(4 * MAX_BODY, chunked as boolean);
    expect(answer.status).toBe(413);
    expect(answer.body).toMatch(/<faultcode>soap:Client<\/faultcode><faultstring>the request is larger than the 262144 bytes accepted \(--max-body-size\)/);
  });

  test('a body of exactly the limit is read (and judged on its content); one byte more is not', async () => {
    const padded = (size: number) => {
      const base = envelope('queryInstalled', '<ns:profile>limit</ns:profile>');
      return base.replace(
        '<soapenv:Body>',
        `<soapenv:Header>${' '.repeat(size - base.length - '<soapenv:Header></soapenv:Header>'.length)}</soapenv:Header><soapenv:Body>`,
      );
    };
    expect(Buffer.byteLength(padded(MAX_BODY))).toBe(MAX_BODY);
    expect((await post(padded(MAX_BODY))).status).toBe(200);
    expect((await post(padded(MAX_BODY + 1))).status).toBe(413);
  });
});

describe('a burst of large bad requests', () => {
  test('every one is answered, memory returns to its level, and the gateway keeps serving', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settledHeap = async () => {
      for (let i = 0; i < 3; i += 1) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return process.memoryUsage().heapUsed;
    };
    const baseline = await settledHeap();
    const malformed = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>${'<a>'.repeat(60_000)}`;
    const unclosed = envelope('lock', `<ns:profile>${'<x/>'.repeat(50_000)}</ns:profile>`).slice(0, -20);
    const structured = envelope('lock', `<ns:profile>${'<x>1</x>'.repeat(5_000)}</ns:profile>`);
    for (let round = 0; round < 2; round += 1) {
      const answers = await Promise.all([
        ...Array.from({ length: 10 }, () => postLarge(16 * MAX_BODY, true)),
        ...Array.from({ length: 10 }, () => post(malformed)),
        ...Array.from({ length: 10 }, () => post(unclosed)),
        ...Array.from({ length: 10 }, () => post(structured)),
      ]);
      expect(new Set(answers.map((a) => a.status))).toEqual(new Set([413, 400, 500]));
    }
    const after = await settledHeap();
    // Generous: the point is that nothing of the ~100 MB received is kept.
    expect(after - baseline).toBeLessThan(48 * 1024 * 1024);
    expect(env.gateway.relay.inFlight).toBe(0);
    expect((await callRaw(env.url, 'queryInstalled', '<ns:profile>still-serving</ns:profile>', auth)).returns).toEqual(['']);
  }, 60_000);
});
