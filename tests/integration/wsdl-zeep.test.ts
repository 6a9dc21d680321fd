/**
 * "Other SOAP stacks can generate a client from the WSDL": python3-zeep (Debian package
 * python3-zeep, run with /usr/bin/python3 or $DISNIX_ZEEP_PYTHON) reads
 * wsdl/DisnixWebService.wsdl (generated from the table by protocol/wsdl.ts) and must see exactly
 * the operations and parts of the table (protocol/operations.ts), build requests in the table's
 * part order, and call a SOAP server through testing/zeep-client.py (here the soap package with
 * stub handlers, standing in for the gateway).
 */
import { execFile, spawnSync } from 'node:child_process';
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
import { b64, sampleArgs, sampleValue } from '../../testing/sample-values';
import { WSDL_FILE, ZEEP_CLIENT } from '../../testing/paths';

const SCRIPT = ZEEP_CLIENT;
const XSD = '{http://www.w3.org/2001/XMLSchema}';
const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const PORT = 'DisnixWebServiceHttpSoap11Endpoint';
const BINDING = `{${TARGET_NAMESPACE}}DisnixWebServiceSoap11Binding`;

/** The Python that has zeep: $DISNIX_ZEEP_PYTHON, else Debian's /usr/bin/python3, else python3. */
function findPython(): string {
  const candidates = process.env.DISNIX_ZEEP_PYTHON ? [process.env.DISNIX_ZEEP_PYTHON] : ['/usr/bin/python3', 'python3'];
  for (const candidate of candidates) {
    const run = spawnSync(candidate, ['-c', 'import zeep'], { encoding: 'utf8' });
    if (run.status === 0) return candidate;
  }
  throw new Error(
    `none of ${candidates.join(', ')} can import zeep: install the Debian package python3-zeep ` +
      '(apt-get install -y python3-zeep), which serves /usr/bin/python3, or point DISNIX_ZEEP_PYTHON at a Python with zeep',
  );
}

let python: string | undefined;
function zeepPython(): string {
  python ??= findPython();
  return python;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the script synchronously (only where no server of this process has to answer). */
function script(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const run = spawnSync(zeepPython(), [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function scriptAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(zeepPython(), [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// What zeep must see, derived from the table.

interface ZeepPart {
  name: string;
  namespace: string | null;
  type: string;
  minOccurs: number;
  maxOccurs: number | 'unbounded';
}

function zeepPart(name: string, kind: PartKind): ZeepPart {
  const base = { name, namespace: TARGET_NAMESPACE };
  const one = { minOccurs: 1, maxOccurs: 1 } as const;
  const many = { minOccurs: 0, maxOccurs: 'unbounded' } as const;
  switch (kind) {
    case 'string':
      return { ...base, type: `${XSD}string`, ...one };
    case 'strings':
      return { ...base, type: `${XSD}string`, ...many };
    case 'boolean':
      return { ...base, type: `${XSD}boolean`, ...one };
    case 'int':
      return { ...base, type: `${XSD}int`, ...one };
    case 'file':
      return { ...base, type: `${XSD}base64Binary`, ...one };
    case 'files':
      return { ...base, type: `${XSD}base64Binary`, ...many };
  }
}

function resultParts(result: ResultKind): Part[] {
  switch (result) {
    case 'none':
      return [];
    case 'string':
    case 'fileText':
      return [{ name: 'return', kind: 'string' }];
    case 'strings':
    case 'file':
    case 'files':
      return [{ name: 'return', kind: result }];
  }
}

/** How `python3 -mzeep` prints a part list: `name: xsd:type`, `[]` after repeated ones. */
function zeepSignature(parts: readonly Part[]): string {
  return parts
    .map((p) => {
      const part = zeepPart(p.name, p.kind);
      return `${p.name}: xsd:${part.type.slice(XSD.length)}${part.maxOccurs === 'unbounded' ? '[]' : ''}`;
    })
    .join(', ');
}

/** The children of the SOAP Body's single element, as [namespace, name, text]. */
function bodyOf(envelope: string): { wrapper: string; items: [string, string, string][] } {
  const parser = new SaxesParser({ xmlns: true });
  const open: string[] = [];
  let wrapper = '';
  const items: [string, string, string][] = [];
  parser.on('opentag', (tag) => {
    open.push(`{${tag.uri}}${tag.local}`);
    if (open.length === 3 && open[1] === `{${SOAP_ENV}}Body`) wrapper = open[2];
    if (open.length === 4) items.push([tag.uri, tag.local, '']);
    if (open.length > 4) throw new Error(`unexpected nesting: ${open.join(' ')}`);
  });
  parser.on('text', (text) => {
    if (open.length === 4) items[items.length - 1][2] += text;
  });
  parser.on('closetag', () => open.pop());
  parser.write(envelope).close();
  return { wrapper, items };
}

// ---------------------------------------------------------------------------------------------

describe('python3-zeep reads DisnixWebService.wsdl from a file', () => {
  it('describes one SOAP 1.1 document service with exactly the table operations and parts', () => {
    const run = script(['--describe', WSDL_FILE]);
    expect([run.status, run.stderr]).toEqual([0, '']);
    const described = JSON.parse(run.stdout) as {
      services: {
        name: string;
        ports: {
          name: string;
          binding: string;
          soap: string;
          transport: string;
          address: string;
          operations: {
            name: string;
            style: string;
            soapAction: string;
            input: { element: string; parts: ZeepPart[] };
            output: { element: string; parts: ZeepPart[] };
          }[];
        }[];
      }[];
    };
    expect(described.services.map((s) => s.name)).toEqual([SERVICE_NAME]);
    const ports = described.services[0].ports;
    expect(ports.map((p) => [p.name, p.binding, p.soap, p.transport, p.address])).toEqual([
      [PORT, BINDING, '1.1', 'http://schemas.xmlsoap.org/soap/http', `http://localhost:8080${DEFAULT_SERVICE_PATH}`],
    ]);
    const ops = ports[0].operations;
    expect(ops.map((o) => o.name)).toEqual(operationNames);
    for (const op of ops) {
      const entry = getOperation(op.name as OperationName);
      expect(op).toEqual({
        name: op.name,
        style: 'document',
        soapAction: '',
        input: { element: `{${TARGET_NAMESPACE}}${op.name}`, parts: entry.params.map((p) => zeepPart(p.name, p.kind)) },
        output: {
          element: `{${TARGET_NAMESPACE}}${op.name}Response`,
          parts: resultParts(entry.result).map((p) => zeepPart(p.name, p.kind)),
        },
      });
    }
  });

  it('prints, through `python3 -mzeep`, the signature the table implies for every operation', () => {
    const run = spawnSync(zeepPython(), ['-m', 'zeep', WSDL_FILE], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const operationsSection = run.stdout.slice(run.stdout.indexOf('Operations:'));
    const printed = operationsSection
      .split('\n')
      .slice(1)
      .map((line) => line.trim())
      .filter((line) => line !== '');
    // zeep sorts them by name.
    const expected = [...operationNames].sort().map((name) => {
      const op = getOperation(name);
      return `${name}(${zeepSignature(op.params)}) -> ${zeepSignature(resultParts(op.result))}`.trimEnd();
    });
    expect(printed).toEqual(expected);
  });

  it('builds every request with the parts qualified, in table order, with their values', async () => {
    const runs = await Promise.all(
      operationNames.map((name) => scriptAsync(['--envelope', WSDL_FILE, name, JSON.stringify(sampleArgs(getOperation(name).params))])),
    );
    for (const [i, name] of operationNames.entries()) {
      const op = getOperation(name);
      const args = sampleArgs(op.params);
      const run = runs[i];
      expect([name, run.status, run.stderr]).toEqual([name, 0, '']);
      const body = bodyOf(run.stdout);
      expect(body.wrapper).toBe(`{${TARGET_NAMESPACE}}${name}`);
      const expected = op.params.flatMap((p) => {
        const value = args[p.name] as unknown;
        return (Array.isArray(value) ? value : [value]).map((v): [string, string, string] => [TARGET_NAMESPACE, p.name, String(v)]);
      });
      expect([name, body.items]).toEqual([name, expected]);
    }
  });

  it('takes parts as a JSON array in table order, and file parts from local files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disnix-zeep-'));
    try {
      const file = path.join(dir, 'closure');
      fs.writeFileSync(file, Buffer.from([0, 1, 2, 254, 255]));
      const run = script(['--envelope', WSDL_FILE, 'importLocalSnapshots', JSON.stringify(['c', 'x', 's', [{ path: file }, b64('two')], ['a', 'b/c']])]);
      expect([run.status, run.stderr]).toEqual([0, '']);
      expect(bodyOf(run.stdout).items.map(([, n, v]) => [n, v])).toEqual([
        ['container', 'c'],
        ['component', 'x'],
        ['snapshot', 's'],
        ['content', Buffer.from([0, 1, 2, 254, 255]).toString('base64')],
        ['content', b64('two')],
        ['path', 'a'],
        ['path', 'b/c'],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses unknown operations and parts with exit status 1 and a message', () => {
    const unknownOp = script(['--envelope', WSDL_FILE, 'importLocal', '{}']);
    expect(unknownOp.status).toBe(1);
    expect(unknownOp.stderr).toMatch(/unknown operation 'importLocal'.*importLocalFile/);
    const unknownPart = script(['--envelope', WSDL_FILE, 'set', '{"profile": "p", "drv": "d"}']);
    expect(unknownPart.status).toBe(1);
    expect(unknownPart.stderr).toMatch(/set has no part drv; its parts: profile, derivation/);
  });
});

describe('tests/support/zeep-client.py calls a SOAP server built from the same WSDL', () => {
  const USER = 'deployer';
  const PASSWORD = 'secret word';
  const auth = { DISNIX_USER: USER, DISNIX_PASSWORD: PASSWORD };
  const received = new Map<string, unknown>();
  /** Answers to give instead of the sample result of an operation. */
  const overrides = new Map<string, Record<string, unknown>>();
  let server: http.Server;
  let url: string;

  function sampleResult(result: ResultKind): Record<string, unknown> {
    const parts = resultParts(result);
    return parts.length === 0 ? {} : { return: sampleValue(parts[0]) };
  }

  beforeAll(async () => {
    zeepPython(); // fail early, and with the message saying what to install
    const stub: Record<string, (args: unknown) => Promise<Record<string, unknown>>> = {};
    for (const name of operationNames) {
      stub[name] = async (args: unknown) => {
        received.set(name, args);
        if (name === 'lock') {
          throw { Fault: { faultcode: 'soap:Server', faultstring: 'Cannot exclusively open the lock file!', statusCode: 500 } };
        }
        return overrides.get(name) ?? sampleResult(getOperation(name).result);
      };
    }
    server = http.createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${DEFAULT_SERVICE_PATH}`;
    // Like the gateway: the WSDL served names the URL the caller uses.
    const xml = fs.readFileSync(WSDL_FILE, 'utf8').replace(`location="http://localhost:8080${DEFAULT_SERVICE_PATH}"`, `location="${url}"`);
    expect(xml).toContain(url);
    const soapServer = await new Promise<soap.Server>((resolve, reject) => {
      const s = soap.listen(server, {
        path: DEFAULT_SERVICE_PATH,
        services: { [SERVICE_NAME]: { [PORT]: stub } },
        xml,
        callback: (err: unknown) => (err ? reject(err) : resolve(s)),
      });
    });
    const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    soapServer.authorizeConnection = (req, res) => {
      if (req.headers.authorization === expected) return true;
      if (res) {
        res.statusCode = 401;
        res.setHeader('WWW-Authenticate', 'Basic realm="DisnixWebService"');
      }
      return false;
    };
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it.each(operationNames.filter((n) => n !== 'lock'))('calls %s with basic auth: parts arrive by name, the result prints as JSON', async (name) => {
    const op = getOperation(name);
    const args = sampleArgs(op.params);
    received.delete(name);
    const run = await scriptAsync([`${url}?wsdl`, name, JSON.stringify(args)], auth);
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(Object.entries((received.get(name) ?? {}) as object)).toEqual(Object.entries(args));
    const result = sampleResult(op.result);
    expect(JSON.parse(run.stdout)).toEqual(op.result === 'none' ? null : result.return);
  });

  it('prints a SOAP Fault as {"fault": message} and exits 2', async () => {
    const run = await scriptAsync([`${url}?wsdl`, 'lock', '{"profile": "default"}'], auth);
    expect([run.status, run.stderr]).toEqual([2, '']);
    expect(JSON.parse(run.stdout)).toEqual({ fault: 'Cannot exclusively open the lock file!' });
    expect(received.get('lock')).toEqual({ profile: 'default' });
  });

  it('prints an empty list as [] and an empty text as ""', async () => {
    overrides.set('printInvalid', {});
    overrides.set('captureConfig', { return: '' });
    try {
      const list = await scriptAsync([`${url}?wsdl`, 'printInvalid', '{"derivation": []}'], auth);
      expect([list.status, list.stderr, JSON.parse(list.stdout)]).toEqual([0, '', []]);
      expect(received.get('printInvalid')).toBeNull(); // an empty wrapper, as the soap package reads it
      const text = await scriptAsync([`${url}?wsdl`, 'captureConfig'], auth);
      expect([text.status, text.stderr, JSON.parse(text.stdout)]).toEqual([0, '', '']);
    } finally {
      overrides.clear();
    }
  });

  it('calls the --endpoint given when the WSDL comes from a file', async () => {
    const run = await scriptAsync(['--endpoint', url, WSDL_FILE, 'queryInstalled', '["default"]'], auth);
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(JSON.parse(run.stdout)).toEqual(['return-1', 'return-2']);
  });

  it('exits 1 with the HTTP status when the credentials are wrong', async () => {
    const run = await scriptAsync([`${url}?wsdl`, 'captureConfig'], { DISNIX_USER: USER, DISNIX_PASSWORD: 'wrong' });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/401/);
    const call = await scriptAsync(['--endpoint', url, WSDL_FILE, 'captureConfig'], { DISNIX_USER: '', DISNIX_PASSWORD: '' });
    expect(call.status).toBe(1);
    expect(call.stderr).toMatch(/401/);
  });
});
