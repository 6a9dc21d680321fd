import { request as httpRequest } from 'node:http';
import { axis2Envelope } from '../../testing/axis2-request';
import { startGatewayEnvironment, useGatewayEnvironment } from '../../testing/gateway-fixture';
import { callRaw, postRaw } from '../../testing/raw-soap';
import { basicAuthHeader } from '../../testing/soap-test-client';

/**
 * The original Java client's positional form sent as plain text/xml (its gzip + MTOM packaging
 * is replayed byte for byte in axis2-client.integration.test.ts), the `--no-auth-from`
 * exemption for such clients, and the credential challenge sent before the body is.
 */
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

describe('the Java client form as text/xml', () => {
  const env = useGatewayEnvironment();
  const post = (operation: string, children: string) =>
    postRaw(env.url, axis2Envelope(operation, children), { username: env.username, password: env.password });

  test('an operation without a result answers 0, as the original service did', async () => {
    const answer = await post('lock', '<arg0 xmlns="">java-form</arg0>');
    expect(answer.status).toBe(200);
    expect(answer.returns).toEqual(['0']);
    expect((await post('unlock', '<arg0 xmlns="">java-form</arg0>')).returns).toEqual(['0']);
  });

  test('sent chunked (no length known up front), it is recognised from the start of the body', async () => {
    const chunked = { username: env.username, password: env.password, headers: { 'Transfer-Encoding': 'chunked' } };
    const answer = await postRaw(env.url, axis2Envelope('lock', '<arg0 xmlns="">chunked</arg0>'), chunked);
    expect([answer.status, answer.returns]).toEqual([200, ['0']]);
    expect((await postRaw(env.url, axis2Envelope('unlock', '<arg0 xmlns="">chunked</arg0>'), chunked)).returns).toEqual(['0']);
  });

  test('a prefixed wrapper with unqualified children is the same form', async () => {
    const body = axis2Envelope('lock', '').replace(/<lock xmlns="([^"]+)"><\/lock>/, '<ns1:lock xmlns:ns1="$1"><arg0>prefixed</arg0></ns1:lock>');
    expect(body).toContain('<ns1:lock');
    const answer = await postRaw(env.url, body, { username: env.username, password: env.password });
    expect([answer.status, answer.returns]).toEqual([200, ['0']]);
    await post('unlock', '<arg0 xmlns="">prefixed</arg0>');
  });

  test('the document/literal form of the same operation still answers no return element', async () => {
    const answer = await callRaw(env.url, 'lock', '<ns:profile>doc-literal</ns:profile>', { username: env.username, password: env.password });
    expect(answer.status).toBe(200);
    expect(answer.returns).toEqual([]);
    await callRaw(env.url, 'unlock', '<ns:profile>doc-literal</ns:profile>', { username: env.username, password: env.password });
  });

  test('a failed job is a SOAP 1.1 Fault with HTTP 500 and a faultcode whose prefix is declared', async () => {
    await post('lock', '<arg0 xmlns="">twice</arg0>');
    const answer = await post('lock', '<arg0 xmlns="">twice</arg0>');
    expect(answer.status).toBe(500);
    expect(answer.faultstring).toMatch(/lock/i);
    const code = /<faultcode>(\w+):\w+<\/faultcode>/.exec(answer.body);
    expect(code).not.toBeNull();
    expect(answer.body).toContain(`xmlns:${code![1]}="http://schemas.xmlsoap.org/soap/envelope/"`);
    await post('unlock', '<arg0 xmlns="">twice</arg0>');
  });

  test('refused input in that form is a Fault with HTTP 500 too', async () => {
    const answer = await post('lock', '<arg0 xmlns="">../escape</arg0>');
    expect(answer.status).toBe(500);
    expect(answer.faultstring).toMatch(/profile.*must be a name/);
  });

  test('a null container or component (not given on the command line) means any', async () => {
    const nil = `<item0 xmlns:xsi="${XSI}" xsi:nil="true" xmlns=""/>`;
    const answer = await post('queryAllSnapshots', nil + nil);
    expect(answer.status).toBe(200);
    expect(answer.faultstring).toBeUndefined();
  });

  test('the document/literal form follows the same xsi:nil rule: a null container or component means any', async () => {
    const nil = (part: string) => `<ns:${part} xmlns:xsi="${XSI}" xsi:nil="true"/>`;
    const answer = await callRaw(env.url, 'queryAllSnapshots', nil('container') + nil('component'), { username: env.username, password: env.password });
    expect(answer.status).toBe(200);
    expect(answer.faultstring).toBeUndefined();
  });

  test('a null where a name is needed is refused with a clear Fault', async () => {
    const answer = await post('lock', `<item0 xmlns:xsi="${XSI}" xsi:nil="true" xmlns=""/>`);
    expect(answer.status).toBe(500);
    expect(answer.faultstring).toBe('lock: part "profile" is null (xsi:nil), but it needs a value');
  });

  test('an empty array is nothing at all, and a list answers one return per element', async () => {
    const answer = await post('printInvalid', '');
    expect(answer.status).toBe(200);
    expect(answer.returns).toEqual([]);
    const missing = ['a', 'b'].map((name) => `${env.daemon.storeDir}/00000000000000000000000000000000-${name}`);
    const listed = await post('printInvalid', missing.map((path) => `<item0 xmlns="">${path}</item0>`).join(''));
    expect(listed.returns).toEqual(missing);
  });

  test('a number beyond the parts is refused by name', async () => {
    const answer = await post('lock', '<arg0 xmlns="">p</arg0><arg1 xmlns="">extra</arg1>');
    expect(answer.status).toBe(500);
    expect(answer.faultstring).toMatch(/lock takes no element "arg1"; its parts are: profile/);
  });
});

describe('--no-auth-from', () => {
  test('lets the listed addresses in without credentials, and only those', async () => {
    const env = await startGatewayEnvironment({ gatewayArgs: ['--no-auth-from', '127.0.0.2,10.0.0.0/8'] });
    try {
      const listed = await postRaw(env.url, axis2Envelope('lock', '<arg0 xmlns="">exempt</arg0>'), { localAddress: '127.0.0.2' });
      expect(listed.status).toBe(200);
      expect(listed.returns).toEqual(['0']);
      const other = await postRaw(env.url, axis2Envelope('unlock', '<arg0 xmlns="">exempt</arg0>'), { localAddress: '127.0.0.1' });
      expect(other.status).toBe(401);
      expect(other.headers['www-authenticate']).toMatch(/^Basic /);
    } finally {
      await env.close();
    }
  });
});

describe('the credential challenge', () => {
  const env = useGatewayEnvironment();

  /** Sends headers with `Expect: 100-continue` and the body only once told to continue. */
  function postExpectingContinue(authorization?: string): Promise<{ status: number; continued: boolean; bodySent: boolean; challenge?: string }> {
    const body = axis2Envelope('lock', '<arg0 xmlns="">continue</arg0>');
    const headers: Record<string, string> = {
      'Content-Type': 'text/xml; charset=UTF-8',
      SOAPAction: '""',
      Expect: '100-continue',
      'Content-Length': String(Buffer.byteLength(body)),
    };
    if (authorization) headers.Authorization = authorization;
    return new Promise((resolve, reject) => {
      let continued = false;
      let bodySent = false;
      const req = httpRequest(env.url, { method: 'POST', headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => {
          if (!bodySent) req.destroy();
          resolve({ status: res.statusCode ?? 0, continued, bodySent, challenge: res.headers['www-authenticate'] });
        });
      });
      req.on('continue', () => {
        continued = true;
        bodySent = true;
        req.end(body);
      });
      req.on('error', (error) => (bodySent ? reject(error) : undefined));
      req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
      req.flushHeaders();
    });
  }

  test('arrives before the body is sent, so that a client that cannot resend its body can answer it', async () => {
    const refused = await postExpectingContinue();
    expect(refused).toEqual({ status: 401, continued: false, bodySent: false, challenge: expect.stringMatching(/^Basic realm=/) });
    const admitted = await postExpectingContinue(basicAuthHeader(env.username, env.password));
    expect(admitted).toEqual({ status: 200, continued: true, bodySent: true, challenge: undefined });
    await postRaw(env.url, axis2Envelope('unlock', '<arg0 xmlns="">continue</arg0>'), { username: env.username, password: env.password });
  });
});
