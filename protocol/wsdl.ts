/**
 * The WSDL of the service, generated from the operations table: `npm run wsdl` writes it to
 * wsdl/DisnixWebService.wsdl, which the gateway serves, and a unit test fails when that file is
 * not what this function answers. The shape is fixed here (WSDL 1.1, SOAP 1.1 over HTTP,
 * document/literal wrapped); the operations, their parts, kinds and summaries come from the table.
 */
import { escapeXml } from './xml-text';
import {
  DEFAULT_SERVICE_PATH,
  PORT_NAME,
  SERVICE_NAME,
  TARGET_NAMESPACE,
  operations,
  type Operation,
  type Part,
  type PartKind,
  type ResultKind,
} from './operations';

export const PORT_TYPE_NAME = `${SERVICE_NAME}PortType`;
export const BINDING_NAME = `${SERVICE_NAME}Soap11Binding`;
/** The soap:address written into the file; the gateway rewrites it per request to the URL the caller used. */
export const DEFAULT_ADDRESS = `http://localhost:8080${DEFAULT_SERVICE_PATH}`;

const SERVICE_DOCUMENTATION = 'Disnix deployment operations on a target machine, relayed to its disnix-service.';

/** The file's own explanation, for whoever opens it. */
const HEADER_COMMENT = `
  DisnixWebService: the SOAP contract of the Disnix web-service gateway.

  Generated from the operations table (protocol/operations.ts) by protocol/wsdl.ts: run
  \`npm run wsdl\` after changing the table; a unit test fails while this file is stale. It is
  served as is (only the soap:address location is rewritten per request to the URL the caller
  used). Part kinds map to schema types:
    string -> xs:string             strings -> xs:string, minOccurs 0, maxOccurs unbounded
    boolean -> xs:boolean           int -> xs:int
    file -> xs:base64Binary (MTOM)  files -> xs:base64Binary, minOccurs 0, maxOccurs unbounded

  Style: WSDL 1.1, WS-I Basic Profile 1.1, SOAP 1.1 over HTTP, document/literal wrapped.
  Each request is a wrapper element named like the operation; each answer is <op>Response
  holding "return" elements (none for operations without a result, one per list element for
  list results). A failed job is answered with a SOAP 1.1 Fault whose faultstring is the
  job's log.
`;

/** How each part kind is declared in the schema: its type, and whether it repeats or travels as MTOM. */
const KIND_DECLARATIONS: Record<PartKind, { type: string; list: boolean; binary: boolean }> = {
  string: { type: 'xs:string', list: false, binary: false },
  strings: { type: 'xs:string', list: true, binary: false },
  boolean: { type: 'xs:boolean', list: false, binary: false },
  int: { type: 'xs:int', list: false, binary: false },
  file: { type: 'xs:base64Binary', list: false, binary: true },
  files: { type: 'xs:base64Binary', list: true, binary: true },
};

/** The part kind of the `return` element an answer holds; none for operations without a result. */
const RESULT_KINDS: Record<ResultKind, PartKind | undefined> = {
  none: undefined,
  strings: 'strings',
  string: 'string',
  fileText: 'string', // the gateway reads the file on the target and answers its text
  file: 'file',
  files: 'files',
};

function partElement(part: Pick<Part, 'name' | 'kind'>): string {
  const declaration = KIND_DECLARATIONS[part.kind];
  const occurs = declaration.list ? ' minOccurs="0" maxOccurs="unbounded"' : '';
  const mtom = declaration.binary ? ' xmime:expectedContentTypes="application/octet-stream"' : '';
  return `            <xs:element name="${escapeXml(part.name)}" type="${declaration.type}"${occurs}${mtom}/>`;
}

/** A global wrapper element with an anonymous sequence of the given parts. */
function wrapperElement(name: string, parts: readonly Pick<Part, 'name' | 'kind'>[]): string[] {
  const sequence = parts.length === 0 ? ['          <xs:sequence/>'] : ['          <xs:sequence>', ...parts.map(partElement), '          </xs:sequence>'];
  return [`      <xs:element name="${escapeXml(name)}">`, '        <xs:complexType>', ...sequence, '        </xs:complexType>', '      </xs:element>'];
}

function schemaElements(name: string, operation: Operation): string[] {
  const resultKind = RESULT_KINDS[operation.result];
  const results = resultKind === undefined ? [] : [{ name: 'return', kind: resultKind }];
  return [`      <!-- ${name} -->`, ...wrapperElement(name, operation.params), ...wrapperElement(`${name}Response`, results)];
}

function messages(name: string): string[] {
  return [`${name}Request`, `${name}Response`].flatMap((message, i) => [
    `  <wsdl:message name="${escapeXml(message)}">`,
    `    <wsdl:part name="parameters" element="tns:${escapeXml(i === 0 ? name : message)}"/>`,
    '  </wsdl:message>',
  ]);
}

function portTypeOperation(name: string, operation: Operation): string[] {
  return [
    `    <wsdl:operation name="${escapeXml(name)}">`,
    `      <wsdl:documentation>${escapeXml(operation.summary)}</wsdl:documentation>`,
    `      <wsdl:input message="tns:${escapeXml(name)}Request"/>`,
    `      <wsdl:output message="tns:${escapeXml(name)}Response"/>`,
    '    </wsdl:operation>',
  ];
}

function bindingOperation(name: string): string[] {
  return [
    `    <wsdl:operation name="${escapeXml(name)}">`,
    '      <soap:operation soapAction="" style="document"/>',
    '      <wsdl:input>',
    '        <soap:body use="literal"/>',
    '      </wsdl:input>',
    '      <wsdl:output>',
    '        <soap:body use="literal"/>',
    '      </wsdl:output>',
    '    </wsdl:operation>',
  ];
}

/** Blocks of lines, one per operation, with an empty line between two blocks. */
function separated(blocks: string[][]): string[] {
  return blocks.flatMap((block, i) => (i === 0 ? block : ['', ...block]));
}

/** The WSDL text of the given operations table (by default, the service's own). */
export function generateWsdl(table: Readonly<Record<string, Operation>> = operations): string {
  const entries = Object.entries(table);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!--${HEADER_COMMENT}-->`,
    `<wsdl:definitions name="${SERVICE_NAME}"`,
    `    targetNamespace="${TARGET_NAMESPACE}"`,
    `    xmlns:tns="${TARGET_NAMESPACE}"`,
    '    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"',
    '    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"',
    '    xmlns:xs="http://www.w3.org/2001/XMLSchema"',
    '    xmlns:xmime="http://www.w3.org/2005/05/xmlmime">',
    '',
    `  <wsdl:documentation>${escapeXml(SERVICE_DOCUMENTATION)}</wsdl:documentation>`,
    '',
    '  <wsdl:types>',
    '    <!-- The schema declares the namespaces it uses itself, so it also stands alone as an XSD. -->',
    `    <xs:schema targetNamespace="${TARGET_NAMESPACE}"`,
    '        elementFormDefault="qualified"',
    `        xmlns:tns="${TARGET_NAMESPACE}"`,
    '        xmlns:xs="http://www.w3.org/2001/XMLSchema"',
    '        xmlns:xmime="http://www.w3.org/2005/05/xmlmime">',
    ...separated(entries.map(([name, operation]) => schemaElements(name, operation))),
    '    </xs:schema>',
    '  </wsdl:types>',
    '',
    ...separated(entries.map(([name]) => messages(name))),
    '',
    `  <wsdl:portType name="${PORT_TYPE_NAME}">`,
    ...separated(entries.map(([name, operation]) => portTypeOperation(name, operation))),
    '  </wsdl:portType>',
    '',
    `  <wsdl:binding name="${BINDING_NAME}" type="tns:${PORT_TYPE_NAME}">`,
    '    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>',
    ...separated(entries.map(([name]) => bindingOperation(name))),
    '  </wsdl:binding>',
    '',
    `  <wsdl:service name="${SERVICE_NAME}">`,
    `    <wsdl:port name="${PORT_NAME}" binding="tns:${BINDING_NAME}">`,
    `      <soap:address location="${escapeXml(DEFAULT_ADDRESS)}"/>`,
    '    </wsdl:port>',
    '  </wsdl:service>',
    '</wsdl:definitions>',
  ];
  return `${lines.join('\n')}\n`;
}
