import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { operations, type Operation } from '../../../protocol/operations';
import { generateWsdl } from '../../../protocol/wsdl';

const WSDL_FILE = join(__dirname, '..', '..', '..', 'wsdl', 'DisnixWebService.wsdl');

describe('wsdl/DisnixWebService.wsdl', () => {
  test('is what the operations table generates', () => {
    const committed = readFileSync(WSDL_FILE, 'utf8');
    const generated = generateWsdl();
    if (generated !== committed) {
      const lines = { generated: generated.split('\n'), committed: committed.split('\n') };
      const at = lines.generated.findIndex((line, i) => line !== lines.committed[i]);
      throw new Error(
        'wsdl/DisnixWebService.wsdl is stale: it is not what protocol/wsdl.ts generates from protocol/operations.ts. ' +
          'Run `npm run wsdl` and commit the result.\n' +
          `First difference at line ${at + 1}:\n` +
          `  generated: ${JSON.stringify(lines.generated[at])}\n` +
          `  committed: ${JSON.stringify(lines.committed[at])}`,
      );
    }
  });
});

describe('generateWsdl', () => {
  const table: Record<string, Operation> = operations;

  test('declares an operation added to the table, with each part kind and its result', () => {
    const probe: Operation = {
      summary: 'A probe operation & its <summary>',
      params: [
        { name: 'one', kind: 'string' },
        { name: 'many', kind: 'strings' },
        { name: 'flag', kind: 'boolean' },
        { name: 'count', kind: 'int' },
        { name: 'blob', kind: 'file' },
        { name: 'blobs', kind: 'files' },
      ],
      result: 'files',
    };
    const base = generateWsdl(table);
    const text = generateWsdl({ ...table, probeOperation: probe });
    expect(base).not.toContain('probeOperation');
    const mtom = 'xmime:expectedContentTypes="application/octet-stream"';
    const list = 'minOccurs="0" maxOccurs="unbounded"';
    const request = [
      '      <!-- probeOperation -->',
      '      <xs:element name="probeOperation">',
      '        <xs:complexType>',
      '          <xs:sequence>',
      '            <xs:element name="one" type="xs:string"/>',
      `            <xs:element name="many" type="xs:string" ${list}/>`,
      '            <xs:element name="flag" type="xs:boolean"/>',
      '            <xs:element name="count" type="xs:int"/>',
      `            <xs:element name="blob" type="xs:base64Binary" ${mtom}/>`,
      `            <xs:element name="blobs" type="xs:base64Binary" ${list} ${mtom}/>`,
      '          </xs:sequence>',
      '        </xs:complexType>',
      '      </xs:element>',
      '      <xs:element name="probeOperationResponse">',
      '        <xs:complexType>',
      '          <xs:sequence>',
      `            <xs:element name="return" type="xs:base64Binary" ${list} ${mtom}/>`,
      '          </xs:sequence>',
      '        </xs:complexType>',
      '      </xs:element>',
      '    </xs:schema>',
    ].join('\n');
    expect(text).toContain(request);
    expect(text).toContain('<wsdl:part name="parameters" element="tns:probeOperation"/>');
    expect(text).toContain('<wsdl:part name="parameters" element="tns:probeOperationResponse"/>');
    expect(text).toContain(
      [
        '    <wsdl:operation name="probeOperation">',
        '      <wsdl:documentation>A probe operation &amp; its &lt;summary&gt;</wsdl:documentation>',
        '      <wsdl:input message="tns:probeOperationRequest"/>',
        '      <wsdl:output message="tns:probeOperationResponse"/>',
        '    </wsdl:operation>',
        '  </wsdl:portType>',
      ].join('\n'),
    );
    expect(text).toMatch(/<wsdl:operation name="probeOperation">\n {6}<soap:operation soapAction="" style="document"\/>[\s\S]*<\/wsdl:binding>/);
    // Nothing else moves: the rest of the document is the table's own.
    expect(text.split('\n').length - base.split('\n').length).toBe(21 + 7 + 6 + 10);
  });

  test('follows a part added to an existing operation, and a changed result', () => {
    const changed: Record<string, Operation> = {
      ...table,
      lock: { ...table.lock, params: [...table.lock.params, { name: 'timeout', kind: 'int' }], result: 'string' },
    };
    const text = generateWsdl(changed);
    expect(text).toContain(
      [
        '      <xs:element name="lock">',
        '        <xs:complexType>',
        '          <xs:sequence>',
        '            <xs:element name="profile" type="xs:string"/>',
        '            <xs:element name="timeout" type="xs:int"/>',
        '          </xs:sequence>',
        '        </xs:complexType>',
        '      </xs:element>',
        '      <xs:element name="lockResponse">',
        '        <xs:complexType>',
        '          <xs:sequence>',
        '            <xs:element name="return" type="xs:string"/>',
        '          </xs:sequence>',
        '        </xs:complexType>',
        '      </xs:element>',
      ].join('\n'),
    );
    expect(generateWsdl(table)).not.toContain('name="timeout"');
  });

  test('declares the operations in the order of the table', () => {
    const reversed = Object.fromEntries(Object.entries(table).reverse());
    const order = (text: string): string[] => [...text.matchAll(/<wsdl:operation name="(\w+)">\n {6}<wsdl:documentation>/g)].map((m) => m[1]);
    expect(order(generateWsdl(table))).toEqual(Object.keys(table));
    expect(order(generateWsdl(reversed))).toEqual(Object.keys(table).reverse());
  });
});
