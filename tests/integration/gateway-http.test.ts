import request from 'supertest';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { basicAuthHeader, createSoapTestClient, envelope } from '../../testing/soap-test-client';

/** What happens at the HTTP level: credentials, the served WSDL, requests that are not SOAP. */
const env = useGatewayEnvironment();
let origin: string;
let auth: string;

beforeAll(async () => {
  origin = new URL(env.url).origin;
  auth = basicAuthHeader(env.username, env.password);
});

const lock = envelope('lock', '<ns:profile>http-test</ns:profile>');
const post = (body: string, headers: Record<string, string> = {}) =>
  request(origin)
    .post(DEFAULT_SERVICE_PATH)
    .set({ 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""', ...headers })
    .send(body);

describe('authentication', () => {
  test.each([
    ['no credentials', undefined, /Credentials are required/],
    ['a wrong password', basicAuthHeader('tester', 'wrong'), /credentials were refused/],
    ['an unknown user', basicAuthHeader('mallory', 'test-password-1'), /credentials were refused/],
  ])('%s: 401 with a challenge for the realm, and the job is not run', async (_name, header, message) => {
    for (const path of [`${DEFAULT_SERVICE_PATH}?wsdl`, DEFAULT_SERVICE_PATH, '/anything']) {
      const get = request(origin).get(path);
      const response = await (header ? get.set('Authorization', header) : get);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Basic realm="DisnixWebService"');
      expect(response.text).toMatch(message);
    }
    let jobs = 0;
    const count = () => (jobs += 1);
    env.gateway.relay.on('started', count);
    const response = await post(lock, header ? { Authorization: header } : {});
    env.gateway.relay.off('started', count);
    expect(response.status).toBe(401);
    expect(jobs).toBe(0);
  });

  test('the right credentials are let in', async () => {
    const response = await post(lock, { Authorization: auth });
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/xmlns:tns="http:\/\/service\.disnix\.nixos\.org".*<tns:lockResponse><\/tns:lockResponse>/);
    await post(envelope('unlock', '<ns:profile>http-test</ns:profile>'), { Authorization: auth });
  });
});

describe('the WSDL', () => {
  test('is served with the address the caller used', async () => {
    const response = await request(origin).get(`${DEFAULT_SERVICE_PATH}?wsdl`).set('Authorization', auth).set('Host', 'deploy.example.org:8443');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/xml/);
    expect(response.text).toContain(`<soap:address location="http://deploy.example.org:8443${DEFAULT_SERVICE_PATH}"/>`);
  });

  test('a hostile Host header cannot inject markup into it', async () => {
    const response = await request(origin).get(`${DEFAULT_SERVICE_PATH}?wsdl`).set('Authorization', auth).set('Host', 'a"><evil/>');
    expect(response.text).not.toContain('<evil/>');
  });

  test('a client built from it by the soap package reaches the endpoint it names', async () => {
    const soap = await createSoapTestClient(env.url, env.username, env.password);
    expect(await soap.call('queryInstalled', { profile: 'wsdl-test' })).toEqual(['']);
  });
});

describe('requests that are not what the service takes', () => {
  test.each([
    ['malformed XML', '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>', 400, /not well-formed XML/],
    ['a body that is not SOAP', '<html><body>hi</body></html>', 400, /not a SOAP envelope/],
    ['an unknown operation', envelope('selfDestruct', ''), 400, /there is no operation "selfDestruct"/],
    ['a DTD with entities', `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>${lock}`, 400, /DTDs and entity declarations are not accepted/],
    ['SOAP 1.2', '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>', 400, /SOAP 1\.2 is not served here/],
  ])('%s: a SOAP Fault that says so', async (_name, body, status, message) => {
    const response = await post(body, { Authorization: auth });
    expect(response.status).toBe(status);
    expect(response.text).toMatch(/<soap:Fault><faultcode>soap:Client<\/faultcode>/);
    expect(decode(response.text)).toMatch(message);
  });

  test('a wrong content type is refused with 415', async () => {
    const response = await post(lock, { Authorization: auth, 'Content-Type': 'application/json' });
    expect(response.status).toBe(415);
    expect(decode(response.text)).toMatch(/Content-Type text\/xml, not "application\/json"/);
  });

  test('an unknown path answers 404 and names the endpoint', async () => {
    const response = await request(origin).get('/DisnixWebService/services/Nope').set('Authorization', auth);
    expect(response.status).toBe(404);
    expect(response.text).toContain(DEFAULT_SERVICE_PATH);
  });

  test('the server keeps serving afterwards', async () => {
    const response = await post(envelope('queryInstalled', '<ns:profile>still-here</ns:profile>'), { Authorization: auth });
    expect(response.status).toBe(200);
  });
});

function decode(xml: string): string {
  return xml
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
