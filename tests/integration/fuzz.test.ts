import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { optionSpecs } from '../../server/config/options';
import { startPrivateBus, type PrivateBus } from '../../demo/private-bus';
import { ClientError } from '../../soap-client/errors';
import { generalOptions, operationFlags, parseCommandLine, valueOptions } from '../../soap-client/cli';
import { TARGET_NAMESPACE, operationNames } from '../../protocol/operations';
import { type DemoDaemon, startDemoDaemon } from '../../testing/demo-daemon';
import { CREDENTIALS, type GatewayProcess, startGatewayProcess } from '../../testing/gateway-process';
import { postRaw } from '../../testing/raw-soap';

/**
 * Property-based: generated SOAP requests at the compiled gateway (a child process, so that a
 * crash shows) and generated argument vectors at the client's parser. Deterministic: the seed
 * is in the test names; FUZZ_SEED=<n> tries another one, FUZZ_RUNS=<n> more runs.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_125);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1);

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
/**
 * importSnapshots moves whatever directory it names into the snapshot store, relative paths
 * resolved in the daemon's working directory (this checkout): never generated.
 */
const FUZZED_OPERATIONS = operationNames.filter((name) => !/^import.*Snapshots$/.test(name));
const PART_NAMES = ['profile', 'derivation', 'closure', 'container', 'component', 'type', 'arguments', 'deleteOld', 'keep', 'snapshots', 'snapshot', 'x'];

// ---- SOAP request generator -------------------------------------------------------------

const oddText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '&lt;',
    '&amp;',
    '&#0;',
    '&#x1F600;',
    '&#1114112;',
    '&xxe;',
    '&lol9;',
    ']]>',
    '<![CDATA[x]]>',
    '<!-- c -->',
    '<?pi x?>',
    'true',
    '-1',
    '2147483648',
    '1e3',
    ' ',
  ),
  fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'a'.repeat(n)),
);
const name = fc.oneof(
  fc.constantFrom(...FUZZED_OPERATIONS, ...PART_NAMES, 'Envelope', 'Body', 'Header', 'Fault'),
  fc.stringMatching(/^[A-Za-z_][\w.-]{0,12}$/),
);
const prefix = fc.constantFrom('', 'ns:', 'soap:', 'soapenv:', 'q:');
const namespaces = fc.constantFrom(` xmlns:ns="${TARGET_NAMESPACE}"`, ` xmlns="${TARGET_NAMESPACE}"`, ' xmlns:q="urn:other"', ` xmlns:soap="${SOAP12}"`, '');

const element: fc.Memo<string> = fc.memo((depth: number) => {
  const content = depth <= 1 ? fc.array(oddText, { maxLength: 2 }) : fc.array(fc.oneof(oddText, element(depth - 1)), { maxLength: 4 });
  return fc
    .tuple(prefix, name, namespaces, fc.option(fc.tuple(name, fc.string({ maxLength: 10 })), { nil: undefined }), content, fc.boolean())
    .map(([p, n, ns, attribute, children, close]) => {
      const attr = attribute ? ` ${attribute[0]}="${attribute[1].replace(/[<&"]/g, '')}"` : '';
      return `<${p}${n}${ns}${attr}>${children.join('')}${close ? `</${p}${n}>` : ''}`;
    });
});

/** A plausible call: the right envelope and operation, with generated parts. */
const plausibleCall = fc
  .tuple(fc.constantFrom(...FUZZED_OPERATIONS), fc.array(fc.tuple(fc.constantFrom(...PART_NAMES), oddText), { maxLength: 5 }))
  .map(
    ([operation, parts]) =>
      `<soapenv:Envelope xmlns:soapenv="${SOAP11}"><soapenv:Body><ns:${operation} xmlns:ns="${TARGET_NAMESPACE}">` +
      parts.map(([part, value]) => `<ns:${part}>${value}</ns:${part}>`).join('') +
      `</ns:${operation}></soapenv:Body></soapenv:Envelope>`,
  );

/** A call in the original Java client's positional form: argN/itemN children, some xsi:nil. */
const positionalCall = fc
  .tuple(
    fc.constantFrom(...FUZZED_OPERATIONS),
    fc.array(fc.tuple(fc.constantFrom('arg', 'item'), fc.integer({ min: 0, max: 6 }), fc.oneof(oddText, fc.constant(null))), { maxLength: 6 }),
  )
  .map(
    ([operation, parts]) =>
      `<soapenv:Envelope xmlns:soapenv="${SOAP11}"><soapenv:Header/><soapenv:Body><${operation} xmlns="${TARGET_NAMESPACE}">` +
      parts
        .map(([kind, n, value]) =>
          value === null
            ? `<${kind}${n} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true" xmlns=""/>`
            : `<${kind}${n} xmlns="">${value}</${kind}${n}>`,
        )
        .join('') +
      `</${operation}></soapenv:Body></soapenv:Envelope>`,
  );

const envelopeAround = fc
  .tuple(fc.constantFrom(SOAP11, SOAP12, 'urn:x'), element(4), fc.boolean())
  .map(([ns, body, header]) => `<e:Envelope xmlns:e="${ns}">${header ? '<e:Header/>' : ''}<e:Body>${body}</e:Body></e:Envelope>`);

const prolog = fc.constantFrom(
  '',
  '<?xml version="1.0" encoding="utf-8"?>',
  '<?xml version="1.1"?>',
  '<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
  '<!DOCTYPE e [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
  '\uFEFF',
  '<?evil?>',
);

const body = fc
  .tuple(prolog, fc.oneof(plausibleCall, positionalCall, envelopeAround, element(3), oddText), fc.option(fc.nat(), { nil: undefined }))
  .map(([head, main, cut]) => {
    const text = head + main;
    return cut === undefined ? text : text.slice(0, cut % (text.length + 1));
  });

const request = fc.record({
  body,
  contentType: fc.constantFrom(
    'text/xml; charset=utf-8',
    'text/xml',
    'application/soap+xml',
    'application/json',
    'multipart/related; type="application/xop+xml"; boundary=x',
    'text/xml; charset=latin1',
    '',
  ),
  path: fc.constantFrom('service', 'service', 'service', 'service?wsdl', '/other'),
  authorised: fc.integer({ min: 0, max: 9 }).map((n) => n !== 0),
  /** Compressed, as the Java client sends every request: read by the streaming path. */
  gzip: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
});

type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never;

describe(`generated SOAP requests at the gateway (seed ${SEED})`, () => {
  let bus: PrivateBus;
  let daemon: DemoDaemon;
  let gateway: GatewayProcess;
  let uploads: string;

  beforeAll(async () => {
    bus = await startPrivateBus();
    daemon = await startDemoDaemon({ busAddress: bus.address });
    uploads = mkdtempSync(join(tmpdir(), 'fuzz-uploads-'));
    const uploadArgs = 'uploadDir' in optionSpecs ? ['--upload-dir', uploads] : [];
    gateway = await startGatewayProcess(bus.address, ['--job-timeout', '1s', '--auth-failure-limit', '0', '--max-body-size', '256k', ...uploadArgs]);
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await daemon?.stop();
    await bus?.stop();
    await rm(uploads, { recursive: true, force: true });
  });

  test('each is answered: 200 with an envelope, 401/404 as such, else a SOAP Fault; nothing crashes or hangs', async () => {
    // Always tried, whatever the seed: every operation with a body beyond --max-body-size.
    const oversized = FUZZED_OPERATIONS.map((operation): [Generated<typeof request>] => [
      {
        body: `<soapenv:Envelope xmlns:soapenv="${SOAP11}"><soapenv:Body><ns:${operation} xmlns:ns="${TARGET_NAMESPACE}"><ns:derivation>${'a'.repeat(300_000)}</ns:derivation></ns:${operation}></soapenv:Body></soapenv:Envelope>`,
        contentType: 'text/xml; charset=utf-8',
        path: 'service',
        authorised: true,
        gzip: false,
      },
    ]);
    await fc.assert(
      fc.asyncProperty(request, async ({ body: text, contentType, path, authorised, gzip }) => {
        const url = path === 'service' ? gateway.url : path === 'service?wsdl' ? `${gateway.url}?wsdl` : new URL(path, gateway.url).href;
        const headers: Record<string, string> = contentType === '' ? {} : { 'Content-Type': contentType };
        if (gzip) headers['Content-Encoding'] = 'gzip';
        const answer = await postRaw(url, gzip ? gzipSync(text) : text, {
          ...(authorised ? CREDENTIALS : { username: 'fuzzer', password: 'nope' }),
          headers,
          timeoutMs: 15_000,
        }).catch((error: Error) => {
          // What the gateway said last tells why, typically a crash's stack trace.
          const tail = gateway.log().split('\n').slice(-6).join('\n').slice(-1_500);
          throw new Error(`no HTTP answer (${error.message}); the gateway is ${gateway.alive() ? 'up' : 'gone'}; its log ends:\n${tail}`);
        });
        if (!authorised) {
          expect(answer.status).toBe(401);
        } else if (path === '/other') {
          expect(answer.status).toBe(404);
        } else if (answer.status === 200) {
          expect(answer.body).toMatch(/<(\w+:)?Envelope[\s>]/);
        } else {
          expect([400, 404, 413, 415, 500, 503]).toContain(answer.status);
          if (answer.status !== 404) expect(answer.body).toMatch(/<(\w+:)?Fault>[\s\S]*<faultstring>/);
        }
      }),
      { seed: SEED, numRuns: 250 * RUNS, endOnFailure: true, examples: oversized },
    );
    expect(gateway.alive()).toBe(true);
    expect(gateway.log()).not.toMatch(/uncaught|unhandled|"level":"error"/i);
  }, 180_000);
});

// ---- CLI argument generator --------------------------------------------------------------

const T = 'http://gw.example:8080/DisnixWebService/services/DisnixWebService';
const flags = [...operationFlags, 'shell', ...Object.values(valueOptions).map((o) => o.flag), ...generalOptions.map((o) => o.flag)];
const shorts = ['-r', '-q', '-p', '-d', '-C', '-c', '-t', '-h', '-v', '-x', '-'];
const word = fc.oneof(
  fc.constantFrom(...flags.map((f) => `--${f}`)),
  fc.constantFrom(...shorts),
  fc.tuple(fc.constantFrom(...flags), fc.string({ maxLength: 12 })).map(([f, v]) => `--${f}=${v}`),
  fc.constantFrom(T, 'http://', 'https://x/y', 'ftp://x', '/nix/store/abc-x', '--', '', '3', '-1', 'k=v', '\u0000', 'é'),
  fc.string({ maxLength: 16 }),
);

test(`generated argument vectors at the client's parser: a request or a ClientError, nothing else (seed ${SEED})`, () => {
  fc.assert(
    fc.property(fc.array(word, { maxLength: 10 }), fc.option(fc.string({ maxLength: 8 }), { nil: undefined }), (argv, profile) => {
      try {
        const parsed = parseCommandLine(argv, profile === undefined ? {} : { DISNIX_PROFILE: profile });
        expect(['help', 'version', 'call']).toContain(parsed.kind);
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        expect(error.message.length).toBeGreaterThan(0);
        expect(error.exitCode).not.toBe(0);
      }
    }),
    { seed: SEED, numRuns: 5_000 * RUNS },
  );
});
