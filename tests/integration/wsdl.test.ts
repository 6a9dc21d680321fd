/**
 * wsdl/DisnixWebService.wsdl as other XML and SOAP implementations read it. The file is
 * generated from the operations table (protocol/operations.ts, by protocol/wsdl.ts), and a unit
 * test (tests/unit/protocol/wsdl.test.ts) fails when it is stale; what these tests add is that
 * independent readers accept it and understand it as the table means it: saxes (well-formedness
 * and the WSDL structure, WS-I Basic Profile 1.1 rules), the `soap` package (it must load it,
 * describe exactly the table, and carry every operation end to end), and libxml2's xmllint
 * (Debian package libxml2-utils: well-formedness, the embedded XML Schema, and request/response
 * documents built from the table).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SaxesParser } from 'saxes';
import * as soap from 'soap';
import {
  DEFAULT_SERVICE_PATH,
  SERVICE_NAME,
  TARGET_NAMESPACE,
  getOperation,
  operationNames,
  type OperationName,
  type Part,
  type PartKind,
  type ResultKind,
} from '../../protocol/operations';
import { sampleArgs, sampleValue } from '../../testing/sample-values';
import { WSDL_FILE } from '../../testing/paths';

const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
const SOAP11_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
const SOAP12_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/';
const XSD_NS = 'http://www.w3.org/2001/XMLSchema';
const HTTP_TRANSPORT = 'http://schemas.xmlsoap.org/soap/http';
const PORT_TYPE = 'DisnixWebServicePortType';
const BINDING = 'DisnixWebServiceSoap11Binding';
const PORT = 'DisnixWebServiceHttpSoap11Endpoint';
const DEFAULT_ADDRESS = `http://localhost:8080${DEFAULT_SERVICE_PATH}`;

const wsdlText = fs.readFileSync(WSDL_FILE, 'utf8');

// ---------------------------------------------------------------------------------------------
// A small namespace-aware tree, read with saxes.

interface XmlElement {
  uri: string;
  local: string;
  /** Attributes without a namespace by local name; namespaced ones as `{uri}local`. */
  attrs: Record<string, string>;
  /** Every namespace binding in scope (prefix -> URI; '' for the default namespace). */
  inScope: Record<string, string>;
  /** Prefixes declared on this element itself. */
  declared: string[];
  children: XmlElement[];
  text: string;
  /** Character offsets of the element's source text: [start, end). */
  start: number;
  end: number;
}

function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: Error | undefined;
  parser.on('error', (err) => {
    failure ??= err;
  });
  parser.on('opentag', (tag) => {
    const attrs: Record<string, string> = {};
    for (const attr of Object.values(tag.attributes)) {
      if (attr.uri !== 'http://www.w3.org/2000/xmlns/') {
        attrs[attr.uri ? `{${attr.uri}}${attr.local}` : attr.local] = attr.value;
      }
    }
    // saxes gives the bindings declared on the tag itself; the rest come from the ancestors.
    const declared = Object.keys(tag.ns);
    const parentScope = stack.length > 0 ? stack[stack.length - 1].inScope : {};
    const inScope: Record<string, string> = { ...parentScope, ...tag.ns };
    const element: XmlElement = {
      uri: tag.uri,
      local: tag.local,
      attrs,
      inScope,
      declared,
      children: [],
      text: '',
      start: xml.lastIndexOf('<', parser.position - 1),
      end: parser.position,
    };
    if (stack.length > 0) stack[stack.length - 1].children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('text', (text) => {
    if (stack.length > 0) stack[stack.length - 1].text += text;
  });
  parser.on('closetag', () => {
    const element = stack.pop();
    if (element) element.end = parser.position;
  });
  parser.write(xml).close();
  if (failure) throw failure;
  if (!root) throw new Error('no root element');
  return root;
}

const children = (el: XmlElement, uri: string, local?: string): XmlElement[] =>
  el.children.filter((c) => c.uri === uri && (local === undefined || c.local === local));

function only(el: XmlElement, uri: string, local: string): XmlElement {
  const found = children(el, uri, local);
  if (found.length !== 1) throw new Error(`<${el.local}> has ${found.length} <${local}> children, want 1`);
  return found[0];
}

/** Resolves a QName attribute value (`tns:foo`) against the bindings in scope. */
function resolveQName(el: XmlElement, value: string): string {
  const colon = value.indexOf(':');
  const prefix = colon < 0 ? '' : value.slice(0, colon);
  const local = colon < 0 ? value : value.slice(colon + 1);
  const uri = el.inScope[prefix];
  if (uri === undefined) throw new Error(`prefix of ${value} is not declared`);
  return `{${uri}}${local}`;
}

const tns = (local: string): string => `{${TARGET_NAMESPACE}}${local}`;

const definitions = parseXml(wsdlText);
const schema = only(only(definitions, WSDL_NS, 'types'), XSD_NS, 'schema');

// ---------------------------------------------------------------------------------------------
// What the table says the schema, the soap package and sample documents must look like.

interface ElementDecl {
  name: string;
  type: string;
  minOccurs: string;
  maxOccurs: string;
  contentType?: string;
}

function declFor(name: string, kind: PartKind): ElementDecl {
  const one = { minOccurs: '1', maxOccurs: '1' };
  const many = { minOccurs: '0', maxOccurs: 'unbounded' };
  const mtom = { contentType: 'application/octet-stream' };
  switch (kind) {
    case 'string':
      return { name, type: `{${XSD_NS}}string`, ...one };
    case 'strings':
      return { name, type: `{${XSD_NS}}string`, ...many };
    case 'boolean':
      return { name, type: `{${XSD_NS}}boolean`, ...one };
    case 'int':
      return { name, type: `{${XSD_NS}}int`, ...one };
    case 'file':
      return { name, type: `{${XSD_NS}}base64Binary`, ...one, ...mtom };
    case 'files':
      return { name, type: `{${XSD_NS}}base64Binary`, ...many, ...mtom };
  }
}

/** The part kind that carries an operation's result (`none`: no `return` element at all). */
function resultPartKind(result: ResultKind): PartKind | undefined {
  switch (result) {
    case 'none':
      return undefined;
    case 'string':
    case 'fileText':
      return 'string';
    case 'strings':
      return 'strings';
    case 'file':
      return 'file';
    case 'files':
      return 'files';
  }
}

function resultParts(result: ResultKind): Part[] {
  const kind = resultPartKind(result);
  return kind === undefined ? [] : [{ name: 'return', kind }];
}

/** How `client.describe()` of the soap package shows a part: `name` or `name[]` -> `xs:type`. */
function soapDescription(parts: readonly Part[]): [string, string][] {
  return parts.map((part) => {
    const decl = declFor(part.name, part.kind);
    const key = decl.maxOccurs === 'unbounded' ? `${part.name}[]` : part.name;
    return [key, `xs:${decl.type.slice(XSD_NS.length + 2)}`];
  });
}

// ---------------------------------------------------------------------------------------------

describe('DisnixWebService.wsdl, read with saxes', () => {
  it('is a namespace-well-formed WSDL 1.1 document for the service', () => {
    expect(`${definitions.uri} ${definitions.local}`).toBe(`${WSDL_NS} definitions`);
    expect(definitions.attrs.targetNamespace).toBe(TARGET_NAMESPACE);
    expect(definitions.attrs.name).toBe(SERVICE_NAME);
    expect(wsdlText.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    // saxes rejects what is not well-formed; make sure that is what the parse above relied on.
    expect(() => parseXml(wsdlText.replace('</wsdl:portType>', ''))).toThrow();
  });

  it('keeps the WS-I Basic Profile 1.1 order and shape of the definitions', () => {
    const order = definitions.children.map((c) => (c.uri === WSDL_NS ? c.local : `{${c.uri}}${c.local}`));
    const collapsed = order.filter((name, i) => name !== order[i - 1]);
    // R2023: types before the rest; documentation may only come first.
    expect(collapsed).toEqual(['documentation', 'types', 'message', 'portType', 'binding', 'service']);
    expect(children(definitions, WSDL_NS, 'import')).toHaveLength(0);

    // R2105: one schema, with a target namespace; qualified local elements, as the brief wants.
    expect(children(only(definitions, WSDL_NS, 'types'), XSD_NS)).toHaveLength(1);
    expect(schema.attrs.targetNamespace).toBe(TARGET_NAMESPACE);
    expect(schema.attrs.elementFormDefault).toBe('qualified');

    // R2201/R2204/R2206: document-literal messages have one part, referring to a global element.
    for (const message of children(definitions, WSDL_NS, 'message')) {
      const parts = children(message, WSDL_NS, 'part');
      expect(parts.map((p) => [p.attrs.name, p.attrs.type])).toEqual([['parameters', undefined]]);
      const element = resolveQName(parts[0], parts[0].attrs.element);
      const local = element.slice(TARGET_NAMESPACE.length + 2);
      expect(element).toBe(tns(local));
      expect(children(schema, XSD_NS, 'element').filter((e) => e.attrs.name === local)).toHaveLength(1);
    }

    // R2304: no overloaded operations; R2718: the binding binds exactly the portType's operations.
    const portType = only(definitions, WSDL_NS, 'portType');
    const binding = only(definitions, WSDL_NS, 'binding');
    expect(portType.attrs.name).toBe(PORT_TYPE);
    expect(binding.attrs.name).toBe(BINDING);
    expect(resolveQName(binding, binding.attrs.type)).toBe(tns(PORT_TYPE));
    const portOps = children(portType, WSDL_NS, 'operation').map((o) => o.attrs.name);
    const boundOps = children(binding, WSDL_NS, 'operation').map((o) => o.attrs.name);
    expect(new Set(portOps).size).toBe(portOps.length);
    expect(boundOps).toEqual(portOps);

    // R2705/R2706/R2716/R2702 (via R2401): document style, literal use, no namespace on
    // soap:body, SOAP over HTTP, and SOAP 1.1 only.
    const soapBinding = only(binding, SOAP11_NS, 'binding');
    expect(soapBinding.attrs).toEqual({ style: 'document', transport: HTTP_TRANSPORT });
    expect(wsdlText).not.toContain(SOAP12_NS);
    for (const op of children(binding, WSDL_NS, 'operation')) {
      const soapOp = only(op, SOAP11_NS, 'operation');
      expect([op.attrs.name, soapOp.attrs.soapAction, soapOp.attrs.style ?? 'document']).toEqual([op.attrs.name, '', 'document']);
      expect(op.children.map((c) => c.local)).toEqual(['operation', 'input', 'output']);
      for (const direction of ['input', 'output']) {
        const body = only(only(op, WSDL_NS, direction), SOAP11_NS, 'body');
        expect([op.attrs.name, direction, body.attrs]).toEqual([op.attrs.name, direction, { use: 'literal' }]);
      }
    }

    // Exactly one service and port, at the original's default address.
    const services = children(definitions, WSDL_NS, 'service');
    expect(services.map((s) => s.attrs.name)).toEqual([SERVICE_NAME]);
    const ports = children(services[0], WSDL_NS, 'port');
    expect(ports.map((p) => p.attrs.name)).toEqual([PORT]);
    expect(resolveQName(ports[0], ports[0].attrs.binding)).toBe(tns(BINDING));
    expect(ports[0].children.map((c) => `{${c.uri}}${c.local}`)).toEqual([`{${SOAP11_NS}}address`]);
    expect(only(ports[0], SOAP11_NS, 'address').attrs.location).toBe(DEFAULT_ADDRESS);
  });
});

describe('DisnixWebService.wsdl in the soap package', () => {
  const received = new Map<string, unknown>();
  let server: http.Server;
  let url: string;
  let client: soap.Client;

  /** Canned results per result kind; the stub answers them for every operation. */
  function sampleResult(result: ResultKind): Record<string, unknown> {
    const parts = resultParts(result);
    return parts.length === 0 ? {} : { return: sampleValue(parts[0]) };
  }

  beforeAll(async () => {
    const stub: Record<string, (args: unknown) => Record<string, unknown>> = {};
    for (const name of operationNames) {
      stub[name] = (args: unknown) => {
        received.set(name, args);
        return sampleResult(getOperation(name).result);
      };
    }
    server = http.createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${DEFAULT_SERVICE_PATH}`;
    await new Promise<void>((resolve, reject) =>
      soap.listen(server, {
        path: DEFAULT_SERVICE_PATH,
        services: { [SERVICE_NAME]: { [PORT]: stub } },
        xml: wsdlText,
        callback: (err: unknown) => (err ? reject(err) : resolve()),
      }),
    );
    // The WSDL comes from the soap server; the calls go to it (soap:address is a placeholder).
    client = await soap.createClientAsync(`${url}?wsdl`, { endpoint: url });
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('describes exactly the table: operations, input parts in order with their kinds, outputs', () => {
    const description = client.describe() as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(description)).toEqual([SERVICE_NAME]);
    expect(Object.keys(description[SERVICE_NAME])).toEqual([PORT]);
    const ops = description[SERVICE_NAME][PORT] as Record<string, { input: object; output: object }>;
    expect(Object.keys(ops)).toEqual(operationNames);
    for (const name of operationNames) {
      const op = getOperation(name);
      // Entries, not objects: toEqual ignores key order, and the order of parts is the contract.
      expect([name, Object.entries(ops[name].input)]).toEqual([name, soapDescription(op.params)]);
      expect([name, Object.entries(ops[name].output)]).toEqual([name, soapDescription(resultParts(op.result))]);
    }
  });

  it('sees document style, soapAction "", SOAP over HTTP and one service with one port', () => {
    const defs = client.wsdl.definitions;
    expect(Object.keys(defs.services)).toEqual([SERVICE_NAME]);
    expect(Object.keys(defs.services[SERVICE_NAME].ports)).toEqual([PORT]);
    expect(defs.services[SERVICE_NAME].ports[PORT].location).toBe(DEFAULT_ADDRESS);
    const binding = defs.bindings[BINDING] as unknown as {
      style: string;
      transport: string;
      methods: Record<string, { style: string; soapAction: string; input?: unknown; output?: unknown }>;
    };
    expect([binding.style, binding.transport]).toEqual(['document', HTTP_TRANSPORT]);
    expect(Object.keys(binding.methods)).toEqual(operationNames);
    for (const name of operationNames) {
      const method = binding.methods[name];
      expect([name, method.style, method.soapAction, !!method.input, !!method.output]).toEqual([name, 'document', '', true, true]);
    }
  });

  it.each(operationNames)('carries %s end to end: parts by name to the handler, the result back', async (name) => {
    const op = getOperation(name);
    const call = (client as unknown as Record<string, (args: unknown) => Promise<[unknown, string]>>)[`${name}Async`];
    expect(typeof call).toBe('function');
    const args = sampleArgs(op.params);
    const [result, rawResponse] = await call.call(client, args);
    // An empty wrapper reaches the handler as null (a documented quirk of the soap package).
    const got = received.get(name) ?? {};
    expect(Object.entries(got as object)).toEqual(Object.entries(args));
    const expected = sampleResult(op.result);
    expect(result ?? {}).toEqual(expected);
    expect(rawResponse).toContain(`${name}Response`);
    expect(rawResponse).toContain(TARGET_NAMESPACE);
  });
});

// ---------------------------------------------------------------------------------------------
// libxml2's xmllint: a second, independent XML and XML Schema implementation.

interface XmllintRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function xmllint(args: string[]): XmllintRun {
  const run = spawnSync('xmllint', args, { encoding: 'utf8' });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('xmllint is not installed: install the Debian package libxml2-utils (apt-get install -y libxml2-utils)');
  }
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The embedded schema as a standalone XSD: its text, plus the namespace bindings it inherits. */
function extractSchema(): string {
  const text = wsdlText.slice(schema.start, schema.end);
  const inherited = Object.entries(schema.inScope)
    .filter(([prefix]) => prefix !== 'xml' && prefix !== 'xmlns' && !schema.declared.includes(prefix))
    .map(([prefix, uri]) => ` ${prefix === '' ? 'xmlns' : `xmlns:${prefix}`}="${uri}"`)
    .join('');
  const nameEnd = text.search(/[\s>/]/);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${text.slice(0, nameEnd)}${inherited}${text.slice(nameEnd)}\n`;
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A wrapper document: `<t:wrapper>` with children given as [name, text] in order. */
function wrapperDoc(wrapper: string, items: [string, string][], qualified = true): string {
  const body = items.map(([n, v]) => (qualified ? `<t:${n}>${escapeXml(v)}</t:${n}>` : `<${n}>${escapeXml(v)}</${n}>`)).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<t:${wrapper} xmlns:t="${TARGET_NAMESPACE}">${body}</t:${wrapper}>\n`;
}

/** The children a part contributes to a wrapper: one element per list item, as on the wire. */
function partItems(part: Part): [string, string][] {
  const value = sampleValue(part);
  const values = Array.isArray(value) ? value : [value];
  return values.map((v) => [part.name, String(v)]);
}

const requestDoc = (name: OperationName, parts: readonly Part[] = getOperation(name).params): string => wrapperDoc(name, parts.flatMap(partItems));

const responseDoc = (name: OperationName): string => wrapperDoc(`${name}Response`, resultParts(getOperation(name).result).flatMap(partItems));

describe('DisnixWebService.wsdl, checked by xmllint (libxml2-utils)', () => {
  let dir: string;
  let xsd: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disnix-wsdl-'));
    xsd = path.join(dir, 'DisnixWebService.xsd');
    fs.writeFileSync(xsd, extractSchema());
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Validates documents against the extracted schema; answers the verdict per document name. */
  function validate(docs: Record<string, string>): Record<string, boolean> {
    const files = Object.entries(docs).map(([name, text]) => {
      const file = path.join(dir, `${name}.xml`);
      fs.writeFileSync(file, text);
      return file;
    });
    const run = xmllint(['--noout', '--schema', xsd, ...files]);
    if (/fails to compile|WXS schema .* failed/.test(run.stderr)) throw new Error(`schema broken:\n${run.stderr}`);
    const verdicts: Record<string, boolean> = {};
    for (const [i, name] of Object.keys(docs).entries()) {
      if (run.stderr.includes(`${files[i]} validates`)) verdicts[name] = true;
      else if (run.stderr.includes(`${files[i]} fails to validate`)) verdicts[name] = false;
      else throw new Error(`no verdict for ${name} from xmllint:\n${run.stderr}`);
    }
    return verdicts;
  }

  it('finds the WSDL well-formed', () => {
    const run = xmllint(['--noout', WSDL_FILE]);
    expect([run.status, run.stderr]).toEqual([0, '']);
    // ... and would say so if it were not.
    const broken = path.join(dir, 'broken.wsdl');
    fs.writeFileSync(broken, wsdlText.replace('</wsdl:types>', ''));
    expect(xmllint(['--noout', broken]).status).not.toBe(0);
  });

  it('compiles the embedded XML Schema (and would notice if it did not)', () => {
    const sample = path.join(dir, 'sample.xml');
    fs.writeFileSync(sample, requestDoc('set'));
    expect(xmllint(['--noout', '--schema', xsd, sample])).toEqual({ status: 0, stdout: '', stderr: `${sample} validates\n` });
    // A schema that refers to a type nobody declares must not compile.
    const broken = path.join(dir, 'broken.xsd');
    const schemaText = fs.readFileSync(xsd, 'utf8');
    const brokenText = schemaText.replace('type="xs:boolean"', 'type="tns:noSuchType"');
    expect(brokenText).not.toBe(schemaText);
    fs.writeFileSync(broken, brokenText);
    const run = xmllint(['--noout', '--schema', broken, sample]);
    expect(run.status).toBe(5);
    expect(run.stderr).toMatch(/failed to compile/);
  });

  it('accepts the request and response of every operation built from the table', () => {
    const docs: Record<string, string> = {};
    for (const name of operationNames) {
      docs[`${name}-request`] = requestDoc(name);
      docs[`${name}-response`] = responseDoc(name);
    }
    const verdicts = validate(docs);
    expect(Object.entries(verdicts).filter(([, ok]) => !ok)).toEqual([]);
    expect(Object.keys(verdicts)).toHaveLength(2 * operationNames.length);
  });

  it('accepts empty lists and rejects documents that break the contract', () => {
    const good: Record<string, string> = {};
    const bad: Record<string, string> = {};
    for (const name of operationNames) {
      const op = getOperation(name);
      const params = op.params;
      // Lists may be empty (minOccurs 0): drop every list part.
      good[`${name}-no-lists`] = wrapperDoc(name, params.filter((p) => p.kind !== 'strings' && p.kind !== 'files').flatMap(partItems));
      bad[`${name}-unknown-part`] = wrapperDoc(name, [...params.flatMap(partItems), ['unknownPart', 'x']]);
      bad[`${name}-unknown-operation`] = wrapperDoc(`${name}X`, params.flatMap(partItems));
      if (params.length > 0) {
        // Unqualified children (the schema wants them in the target namespace).
        bad[`${name}-unqualified`] = wrapperDoc(name, params.flatMap(partItems), false);
      }
      const scalar = params.findIndex((p) => p.kind !== 'strings' && p.kind !== 'files');
      if (scalar >= 0) {
        bad[`${name}-missing-${params[scalar].name}`] = wrapperDoc(name, params.filter((_, i) => i !== scalar).flatMap(partItems));
        // A scalar given twice.
        bad[`${name}-twice-${params[scalar].name}`] = wrapperDoc(
          name,
          params.flatMap((p, i) => (i === scalar ? [...partItems(p), ...partItems(p)] : partItems(p))),
        );
      }
      const distinct = params.findIndex((p, i) => i > 0 && p.name !== params[i - 1].name);
      if (distinct > 0) {
        const swapped = [...params];
        [swapped[distinct - 1], swapped[distinct]] = [swapped[distinct], swapped[distinct - 1]];
        bad[`${name}-reordered`] = requestDoc(name, swapped);
      }
      // A scalar part whose text does not fit its type.
      const misfits: Partial<Record<PartKind, [string, string]>> = {
        int: ['not-int', 'many'],
        boolean: ['not-boolean', 'yes'],
        file: ['not-base64', 'not base64!'],
      };
      for (const part of params) {
        const misfit = misfits[part.kind];
        if (misfit === undefined) continue;
        const items = params.flatMap((p): [string, string][] => (p === part ? [[p.name, misfit[1]]] : partItems(p)));
        bad[`${name}-${part.name}-${misfit[0]}`] = wrapperDoc(name, items);
      }
      const results = resultParts(op.result);
      if (results.length === 0) {
        bad[`${name}-response-with-return`] = wrapperDoc(`${name}Response`, [['return', '0']]);
      } else if (results[0].kind === 'string' || results[0].kind === 'file') {
        const twice = [...partItems(results[0]), ...partItems(results[0])];
        bad[`${name}-response-two-returns`] = wrapperDoc(`${name}Response`, twice);
        bad[`${name}-response-no-return`] = wrapperDoc(`${name}Response`, []);
      }
    }
    // The kinds of breakage above must all occur for the table as it is.
    const kinds = ['unqualified', 'missing', 'twice', 'reordered', 'not-int', 'not-boolean', 'not-base64'];
    for (const kind of [...kinds, 'response-with-return', 'response-two-returns', 'response-no-return']) {
      expect([kind, Object.keys(bad).some((k) => k.includes(kind))]).toEqual([kind, true]);
    }
    const verdicts = validate({ ...good, ...bad });
    expect(Object.keys(good).filter((k) => !verdicts[k])).toEqual([]);
    expect(Object.keys(bad).filter((k) => verdicts[k])).toEqual([]);
  });
});
