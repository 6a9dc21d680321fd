import { checkEnvelope } from '../../../../server/soap/envelope-check';
import { TARGET_NAMESPACE } from '../../../../protocol/operations';

const envelope = (operation: string, parts: string, header = '') =>
  `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns="${TARGET_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
  `${header}<soap:Body><ns:${operation}>${parts}</ns:${operation}></soap:Body></soap:Envelope>`;

describe('the envelope check keeps the parts, so that a call is parsed once', () => {
  test('each part as its text, in order, with entities, character references and CDATA resolved', () => {
    const call = checkEnvelope(envelope('activate', '<ns:derivation>/nix/store/a &amp; b</ns:derivation><ns:container>&#101;cho</ns:container><ns:type><![CDATA[<e>]]></ns:type><ns:arguments>x=1</ns:arguments><ns:arguments> y </ns:arguments>'));
    expect(call.operation).toBe('activate');
    expect(call.positional).toBe(false);
    expect(call.parts).toEqual([
      { kind: 'text', name: 'derivation', text: '/nix/store/a & b', nil: false },
      { kind: 'text', name: 'container', text: 'echo', nil: false },
      { kind: 'text', name: 'type', text: '<e>', nil: false },
      { kind: 'text', name: 'arguments', text: 'x=1', nil: false },
      { kind: 'text', name: 'arguments', text: ' y ', nil: false },
    ]);
  });

  test('xsi:nil and empty elements are told apart', () => {
    const call = checkEnvelope(envelope('queryAllSnapshots', '<ns:container xsi:nil="true"/><ns:component></ns:component>'));
    expect(call.parts).toEqual([
      { kind: 'text', name: 'container', text: '', nil: true },
      { kind: 'text', name: 'component', text: '', nil: false },
    ]);
  });

  test('header elements are not parts', () => {
    const call = checkEnvelope(envelope('lock', '<ns:profile>p</ns:profile>', '<soap:Header><h:a xmlns:h="urn:h"><h:b><h:c>deep</h:c></h:b></h:a></soap:Header>'));
    expect(call.parts).toEqual([{ kind: 'text', name: 'profile', text: 'p', nil: false }]);
  });

  test('a part holding elements leaves the parts unread, for the `soap` package to judge', () => {
    const call = checkEnvelope(envelope('set', '<ns:profile><ns:x>1</ns:x></ns:profile><ns:derivation>/d</ns:derivation>'));
    expect(call.operation).toBe('set');
    expect(call.parts).toBeUndefined();
  });

  test('an operation without parts has none', () => {
    expect(checkEnvelope(envelope('queryInstalled', '')).parts).toEqual([]);
  });
});
