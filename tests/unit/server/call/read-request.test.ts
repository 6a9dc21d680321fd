import { Readable } from 'node:stream';
import { TARGET_NAMESPACE } from '../../../../protocol/operations';
import { type ReceivedCall, readRequest } from '../../../../server/call/read-request';

const envelope = (operation: string, parts: string, header = '') =>
  `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns="${TARGET_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
  `${header}<soap:Body><ns:${operation}>${parts}</ns:${operation}></soap:Body></soap:Envelope>`;

/** A text/xml request as the gateway reads it, in pieces of `chunk` characters. */
function read(xml: string, chunk = 7): Promise<ReceivedCall> {
  const pieces = Array.from({ length: Math.ceil(xml.length / chunk) }, (_, i) => Buffer.from(xml.slice(i * chunk, (i + 1) * chunk)));
  const req = Object.assign(Readable.from(pieces), { headers: { 'content-type': 'text/xml; charset=utf-8' } });
  return readRequest(req, { maxBodyBytes: 64 * 1024, uploadDir: '/nonexistent', newFilePath: () => '/nonexistent/file' });
}

describe('the reader keeps the parts, so that a call is parsed once', () => {
  test('each part as its text, in order, with entities, character references and CDATA resolved', async () => {
    const call = await read(
      envelope(
        'activate',
        '<ns:derivation>/nix/store/a &amp; b</ns:derivation><ns:container>&#101;cho</ns:container><ns:type><![CDATA[<e>]]></ns:type><ns:arguments>x=1</ns:arguments><ns:arguments> y </ns:arguments>',
      ),
    );
    expect(call.operation).toBe('activate');
    expect(call.form).toBe('document');
    expect(call.items).toEqual([
      { kind: 'text', name: 'derivation', text: '/nix/store/a & b', nil: false },
      { kind: 'text', name: 'container', text: 'echo', nil: false },
      { kind: 'text', name: 'type', text: '<e>', nil: false },
      { kind: 'text', name: 'arguments', text: 'x=1', nil: false },
      { kind: 'text', name: 'arguments', text: ' y ', nil: false },
    ]);
  });

  test('xsi:nil and empty elements are told apart', async () => {
    const call = await read(envelope('queryAllSnapshots', '<ns:container xsi:nil="true"/><ns:component></ns:component>'));
    expect(call.items).toEqual([
      { kind: 'text', name: 'container', text: '', nil: true },
      { kind: 'text', name: 'component', text: '', nil: false },
    ]);
  });

  test('header elements are not parts', async () => {
    const call = await read(envelope('lock', '<ns:profile>p</ns:profile>', '<soap:Header><h:a xmlns:h="urn:h"><h:b><h:c>deep</h:c></h:b></h:a></soap:Header>'));
    expect(call.items).toEqual([{ kind: 'text', name: 'profile', text: 'p', nil: false }]);
  });

  test('a part holding elements is marked as a structure, for the argument check to name', async () => {
    const call = await read(envelope('set', '<ns:profile><ns:x>1</ns:x></ns:profile><ns:derivation>/d</ns:derivation>'));
    expect(call.operation).toBe('set');
    expect(call.items).toEqual([
      { kind: 'text', name: 'profile', text: '', nil: false, structured: true },
      { kind: 'text', name: 'derivation', text: '/d', nil: false },
    ]);
  });

  test('an operation without parts has none', async () => {
    expect((await read(envelope('queryInstalled', ''))).items).toEqual([]);
  });

  test('the Java client form is recognised by its positional children', async () => {
    const call = await read(envelope('lock', '<arg0 xmlns="">p</arg0>'));
    expect(call).toMatchObject({ operation: 'lock', form: 'positional', items: [{ kind: 'text', name: 'profile', text: 'p', nil: false }] });
  });

  test.each([
    ['a DTD', `<!DOCTYPE x [<!ENTITY a "b">]>${envelope('lock', '<ns:profile>&a;</ns:profile>')}`, 'GW_ERR_UNREADABLE', /the request has a DTD/],
    ['a processing instruction', envelope('lock', '<?evil x?><ns:profile>p</ns:profile>'), 'GW_ERR_UNREADABLE', /processing instruction/],
    [
      'nesting beyond any call',
      envelope('lock', `<ns:profile>${'<x>'.repeat(40)}${'</x>'.repeat(40)}</ns:profile>`),
      'GW_ERR_UNREADABLE',
      /nests elements more than 32 deep/,
    ],
    ['an unknown operation', envelope('selfDestruct', ''), 'GW_ERR_UNREADABLE', /there is no operation "selfDestruct"/],
    [
      'markup beyond --max-body-size',
      envelope('lock', `<ns:profile>${'p'.repeat(70_000)}</ns:profile>`),
      'GW_ERR_TOO_LARGE',
      /the request is larger than the 65536 bytes accepted \(--max-body-size\); file contents do not count/,
    ],
  ])('%s is refused with a code that says why', async (_name, xml, code, message) => {
    await expect(read(xml, 1000)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });
});
