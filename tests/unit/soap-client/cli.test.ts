import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getOperation, operationNames } from '../../../protocol/operations';
import { parseCommandLine, SHELL_UNSUPPORTED, type CliRequest, type OperationCall } from '../../../soap-client/cli';
import { buildEnvelope, escapeXml } from '../../../soap-client/envelope';
import { ClientError, httpError, networkError } from '../../../soap-client/errors';
import { readResponse, ResponseReader } from '../../../soap-client/response';
import { usageText, versionText } from '../../../soap-client/usage';
import { PROJECT_ROOT } from '../../../testing/paths';

const T = 'http://gw.example:8080/DisnixWebService/services/DisnixWebService';
const ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const DISNIX_NS = 'http://service.disnix.nixos.org';

function call(args: string[], env: NodeJS.ProcessEnv = {}): OperationCall {
  const request: CliRequest = parseCommandLine(args, env);
  if (request.kind !== 'call') throw new Error(`expected a call, got ${request.kind}`);
  expect(request.target.href).toBe(T);
  return request.call;
}

function parseError(args: string[], env: NodeJS.ProcessEnv = {}): ClientError {
  try {
    parseCommandLine(args, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError);
    return error as ClientError;
  }
  throw new Error(`expected ${args.join(' ')} to be refused`);
}

describe('parseCommandLine: the coordinator argv shapes (reference section 3)', () => {
  it.each<[string[], OperationCall]>([
    [['--target', T, '--collect-garbage'], { operation: 'collectGarbage', values: { deleteOld: false } }],
    [['--target', T, '--collect-garbage', '-d'], { operation: 'collectGarbage', values: { deleteOld: true } }],
    [
      ['--target', T, '--profile', 'P', '--set', '/nix/store/abc-profile'],
      { operation: 'set', values: { profile: 'P', derivation: '/nix/store/abc-profile' } },
    ],
    [['--target', T, '--profile', 'P', '--query-installed'], { operation: 'queryInstalled', values: { profile: 'P' } }],
    [['--realise', '--target', T, '/nix/store/x.drv'], { operation: 'realise', values: { derivation: ['/nix/store/x.drv'] } }],
    [
      ['--query-requisites', '--target', T, '/nix/store/a', '/nix/store/b'],
      { operation: 'queryRequisites', values: { derivation: ['/nix/store/a', '/nix/store/b'] } },
    ],
    [['--target', T, '--print-invalid', '/nix/store/a'], { operation: 'printInvalid', values: { derivation: ['/nix/store/a'] } }],
    [['--import', '--target', T, '--localfile', '/tmp/closure'], { operation: 'importLocalFile', values: { closure: ['/tmp/closure'] } }],
    [
      ['--target', T, '--export', '--remotefile', '/nix/store/a', '/nix/store/b'],
      { operation: 'exportRemoteFile', values: { derivation: ['/nix/store/a', '/nix/store/b'] } },
    ],
    [
      ['--activate', '--target', T, '--container', 'C', '--type', 'process', '--arguments', 'a=1', '--arguments', 'b=2', '/nix/store/s'],
      {
        operation: 'activate',
        values: { derivation: '/nix/store/s', container: 'C', type: 'process', arguments: ['a=1', 'b=2'] },
      },
    ],
    [['--lock', '--target', T, '--profile', 'P'], { operation: 'lock', values: { profile: 'P' } }],
    [['--unlock', '--target', T, '--profile', 'P'], { operation: 'unlock', values: { profile: 'P' } }],
    [
      ['--target', T, '--clean-snapshots', '--keep', '3', '--container', 'C', '--component', 'X'],
      { operation: 'cleanSnapshots', values: { keep: 3, container: 'C', component: 'X' } },
    ],
    [['--target', T, '--query-all-snapshots'], { operation: 'queryAllSnapshots', values: { container: '', component: '' } }],
    [
      ['--target', T, '--query-latest-snapshot', '--container', 'C', '--component', 'X'],
      { operation: 'queryLatestSnapshot', values: { container: 'C', component: 'X' } },
    ],
    [['--target', T, '--print-missing-snapshots', 'C/X/abc'], { operation: 'printMissingSnapshots', values: { component: ['C/X/abc'] } }],
    [['--target', T, '--resolve-snapshots', 'C/X/abc'], { operation: 'resolveSnapshots', values: { snapshots: ['C/X/abc'] } }],
    [
      ['--target', T, '--import-snapshots', '--remotefile', '--container', 'C', '--component', 'X', '/tmp/s1', '/tmp/s2'],
      { operation: 'importSnapshots', values: { container: 'C', component: 'X', snapshots: ['/tmp/s1', '/tmp/s2'] } },
    ],
    [
      ['--target', T, '--import-snapshots', '--localfile', '--container', 'C', '--component', 'X', '/tmp/snap'],
      { operation: 'importLocalSnapshots', values: { container: 'C', component: 'X', snapshot: '/tmp/snap', content: ['/tmp/snap'] } },
    ],
    [['--target', T, '--export-snapshots', 'C/X/abc'], { operation: 'exportRemoteSnapshots', values: { snapshot: 'C/X/abc' } }],
    [['--capture-config', '--target', T], { operation: 'captureConfig', values: {} }],
    [['--import', '--remotefile', '--target', T, '/tmp/closure'], { operation: 'importm', values: { closure: '/tmp/closure' } }],
    [['--export', '--localfile', '--target', T, '/nix/store/a'], { operation: 'export', values: { derivation: ['/nix/store/a'] } }],
  ])('%j', (args, expected) => {
    expect(call(args)).toEqual(expected);
  });

  it('reaches every operation the table gives a flag', () => {
    const reached = new Set<string>();
    for (const name of operationNames) {
      const cli = getOperation(name).cli;
      if (cli === undefined) continue;
      const args = ['-t', T, `--${cli.flag}`, '--type', 'process', '/p'];
      if (cli.transfer) args.push(`--${cli.transfer}`);
      reached.add(call(args).operation);
    }
    expect([...reached].sort()).toEqual(operationNames.filter((name) => getOperation(name).cli).sort());
  });
});

describe('parseCommandLine: option forms', () => {
  it('takes --opt=value like --opt value', () => {
    expect(call([`--target=${T}`, '--profile=P', '--set', '/nix/store/a'])).toEqual(call(['--target', T, '--profile', 'P', '--set', '/nix/store/a']));
    expect(call(['--target', T, '--clean-snapshots', '--keep=0', '--container=C', '--component=X']).values).toEqual({
      keep: 0,
      container: 'C',
      component: 'X',
    });
  });

  it('takes the short forms -t -p -d -C -c -r -q', () => {
    expect(call(['-t', T, '-q', '-p', 'P'])).toEqual({ operation: 'queryInstalled', values: { profile: 'P' } });
    expect(call(['-r', '-t', T, '/nix/store/x.drv']).operation).toBe('realise');
    expect(call(['-t', T, '--collect-garbage', '-d']).values).toEqual({ deleteOld: true });
    expect(call(['-t', T, '--query-all-snapshots', '-C', 'C', '-c', 'X']).values).toEqual({ container: 'C', component: 'X' });
    expect(call([`-t${T}`, '-q']).operation).toBe('queryInstalled');
  });

  it('takes options and paths in any order', () => {
    const expected = call(['--activate', '--target', T, '--type', 'echo', '/nix/store/s']);
    expect(call(['/nix/store/s', '--type', 'echo', '--target', T, '--activate'])).toEqual(expected);
    expect(call(['--type=echo', '/nix/store/s', '--activate', `--target=${T}`])).toEqual(expected);
  });

  it('keeps repeated --arguments in order, in both forms', () => {
    const { values } = call(['--snapshot', '-t', T, '--type', 'process', '--arguments', 'x=1', '--arguments=y=2', '--arguments', 'z=a b', '/nix/store/s']);
    expect(values.arguments).toEqual(['x=1', 'y=2', 'z=a b']);
  });

  it('takes paths that start with a dash after --', () => {
    expect(call(['-t', T, '--print-invalid', '--', '-odd', '/nix/store/a']).values).toEqual({ derivation: ['-odd', '/nix/store/a'] });
  });

  it('answers --help and --version before checking anything else', () => {
    expect(parseCommandLine(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-h', '--lock', '--unlock'], {})).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-v'], {})).toEqual({ kind: 'version' });
    expect(parseCommandLine(['--version', '--lock'], {})).toEqual({ kind: 'version' });
  });
});

describe('parseCommandLine: timeouts', () => {
  function timeouts(args: string[], env: NodeJS.ProcessEnv = {}) {
    const request = parseCommandLine(['-t', T, '--lock', ...args], env);
    if (request.kind !== 'call') throw new Error(`expected a call, got ${request.kind}`);
    return request.timeouts;
  }

  it('defaults to 30 s to connect and 10 min of silence mid-transfer', () => {
    expect(timeouts([])).toEqual({ connectMs: 30_000, idleMs: 600_000 });
  });

  it('takes --connect-timeout and --idle-timeout in seconds or with a unit, 0 for no limit', () => {
    expect(timeouts(['--connect-timeout', '5', '--idle-timeout=2m'])).toEqual({ connectMs: 5000, idleMs: 120_000 });
    expect(timeouts(['--connect-timeout=0.5', '--idle-timeout', '1h'])).toEqual({ connectMs: 500, idleMs: 3_600_000 });
    expect(timeouts(['--connect-timeout=250ms', '--idle-timeout', '0'])).toEqual({ connectMs: 250, idleMs: 0 });
  });

  it('takes DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT and DISNIX_SOAP_CLIENT_IDLE_TIMEOUT, which the options override', () => {
    const env = { DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT: '10s', DISNIX_SOAP_CLIENT_IDLE_TIMEOUT: '30m' };
    expect(timeouts([], env)).toEqual({ connectMs: 10_000, idleMs: 1_800_000 });
    expect(timeouts(['--idle-timeout', '0'], env)).toEqual({ connectMs: 10_000, idleMs: 0 });
  });

  it.each([
    [['--connect-timeout', 'soon'], {}, "--connect-timeout needs a time such as 30s, 10m or 2h (0 for no limit); got 'soon'"],
    [['--idle-timeout=-1'], {}, "--idle-timeout needs a time such as 30s, 10m or 2h (0 for no limit); got '-1'"],
    [['--idle-timeout=30d'], {}, "--idle-timeout needs a time such as 30s, 10m or 2h (0 for no limit); got '30d'"],
    [
      [],
      { DISNIX_SOAP_CLIENT_IDLE_TIMEOUT: '5 minutes' },
      "DISNIX_SOAP_CLIENT_IDLE_TIMEOUT needs a time such as 30s, 10m or 2h (0 for no limit); got '5 minutes'",
    ],
  ])('refuses %j %j with a message naming where the value came from', (args, env, message) => {
    const error = parseError(['-t', T, '--lock', ...args], env);
    expect(error.message.split('\n')[0]).toBe(message);
  });
});

describe('parseCommandLine: --compress', () => {
  function compress(args: string[], env: NodeJS.ProcessEnv = {}) {
    const request = parseCommandLine(['-t', T, '--export', '--remotefile', '/nix/store/x', ...args], env);
    if (request.kind !== 'call') throw new Error(`expected a call, got ${request.kind}`);
    return request.compress;
  }

  it('defaults to auto, also for an empty DISNIX_SOAP_CLIENT_COMPRESS', () => {
    expect(compress([])).toBe('auto');
    expect(compress([], { DISNIX_SOAP_CLIENT_COMPRESS: '' })).toBe('auto');
  });

  it('takes auto, always and never, in both option forms and from DISNIX_SOAP_CLIENT_COMPRESS, which the option overrides', () => {
    expect(compress(['--compress', 'always'])).toBe('always');
    expect(compress(['--compress=never'])).toBe('never');
    expect(compress(['--compress=Auto'])).toBe('auto');
    expect(compress([], { DISNIX_SOAP_CLIENT_COMPRESS: 'never' })).toBe('never');
    expect(compress(['--compress=always'], { DISNIX_SOAP_CLIENT_COMPRESS: 'never' })).toBe('always');
  });

  it.each([
    [['--compress=yes'], {}, "--compress takes auto, always, never; got 'yes'"],
    [[], { DISNIX_SOAP_CLIENT_COMPRESS: 'gzip' }, "DISNIX_SOAP_CLIENT_COMPRESS takes auto, always, never; got 'gzip'"],
  ])('refuses %j %j, naming where the value came from', (args, env, message) => {
    const error = parseError(['-t', T, '--lock', ...args], env);
    expect(error.message.split('\n')[0]).toBe(message);
  });

  it('needs a value', () => {
    expect(parseError(['-t', T, '--lock', '--compress']).message.split('\n')[0]).toBe('option --compress needs a value');
  });

  it('is listed by --help with its variable', () => {
    expect(usageText()).toMatch(/--compress[= ]WHEN[\s\S]*DISNIX_SOAP_CLIENT_COMPRESS/);
  });
});

describe('parseCommandLine: defaults', () => {
  it('uses the profile "default", or $DISNIX_PROFILE', () => {
    expect(call(['-t', T, '--lock']).values).toEqual({ profile: 'default' });
    expect(call(['-t', T, '--lock'], { DISNIX_PROFILE: 'staging' }).values).toEqual({ profile: 'staging' });
    expect(call(['-t', T, '--lock', '-p', 'mine'], { DISNIX_PROFILE: 'staging' }).values).toEqual({ profile: 'mine' });
    expect(call(['-t', T, '--set', '/nix/store/p'], { DISNIX_PROFILE: '' }).values.profile).toBe('default');
  });

  it('keeps 1 snapshot generation and filters on nothing by default', () => {
    expect(call(['-t', T, '--clean-snapshots']).values).toEqual({ keep: 1, container: '', component: '' });
  });

  it('defaults the container to the type for the Dysnomia operations only', () => {
    for (const flag of ['activate', 'deactivate', 'delete-state', 'snapshot', 'restore']) {
      expect(call(['-t', T, `--${flag}`, '--type', 'process', '/nix/store/s']).values).toEqual({
        derivation: '/nix/store/s',
        container: 'process',
        type: 'process',
        arguments: [],
      });
    }
    expect(call(['-t', T, '--query-latest-snapshot', '-c', 'X']).values).toEqual({ container: '', component: 'X' });
  });

  it('sends --collect-garbage without -d as deleteOld false', () => {
    expect(call(['--collect-garbage', '-t', T]).values.deleteOld).toBe(false);
  });
});

describe('parseCommandLine: errors', () => {
  it.each<[string[], RegExp]>([
    [['--lock'], /no target given: add --target/],
    [['-t', T], /no operation given/],
    [[], /no operation given/],
    [['-t', T, '--lock', '--bogus'], /unknown option --bogus/],
    [['-t', T, '--lock', '-x'], /unknown option -x/],
    [['-t', T, '--lock', '--session-bus'], /unknown option --session-bus/],
    [['--lock', '--target'], /option --target needs a value/],
    [['-t', T, '--lock=yes'], /option --lock takes no value/],
    [['-t', T, '--clean-snapshots', '--keep', 'two'], /--keep needs a whole number.*got 'two'/],
    [['-t', T, '--clean-snapshots', '--keep=-1'], /--keep needs a whole number.*got '-1'/],
    [['-t', T, '--clean-snapshots', '--keep', '1.5'], /--keep needs a whole number/],
    [['-t', T, '--clean-snapshots', '--keep', '99999999999'], /--keep needs a whole number/],
    [['-t', T, '--lock', '--unlock'], /exactly one operation, not --lock and --unlock/],
    [['-t', T, '-r', '-q'], /exactly one operation, not --realise and --query-installed/],
    [['-t', T, '--import', '/tmp/c'], /--import needs --localfile or --remotefile/],
    [['-t', T, '--export', '/nix/store/a'], /--export needs --localfile or --remotefile/],
    [['-t', T, '--import-snapshots', '/tmp/s'], /--import-snapshots needs --localfile or --remotefile/],
    [['-t', T, '--import', '--localfile', '--remotefile', '/tmp/c'], /not both/],
    [['-t', T, '--set'], /--set needs a path/],
    [['-t', T, '--import', '--remotefile'], /--import needs a path/],
    [['-t', T, '--activate', '/nix/store/s'], /--activate needs --type/],
    [['-t', T, '--activate', '--type', 'echo'], /--activate needs a path/],
    [['-t', 'gw.example:8080', '--lock'], /is not an http:\/\/ or https:\/\/ URL; give the service URL/],
    [['-t', 'gw', '--lock'], /--target gw is not an http/],
    [['-t', 'ftp://gw.example/x', '--lock'], /is not an http:\/\/ or https:\/\/ URL/],
  ])('%j', (args, message) => {
    const error = parseError(args);
    expect(error.message).toMatch(message);
    expect(error.exitCode).toBe(1);
    expect(error.message.split('\n').length).toBeLessThanOrEqual(2);
  });

  it('refuses --shell with its own explanation, whatever else is given', () => {
    for (const args of [['--shell'], ['--shell', '-t', T, '--type', 'process', '--command', 'ls', '/nix/store/s']]) {
      const error = parseError(args);
      expect(error.message).toBe(SHELL_UNSUPPORTED);
      expect(error.exitCode).toBe(1);
    }
  });
});

describe('buildEnvelope', () => {
  const wrap = (body: string): string => `<soapenv:Envelope xmlns:soapenv="${ENV_NS}"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

  it('writes the parts in table order, qualified', () => {
    expect(buildEnvelope('set', { derivation: '/nix/store/d', profile: 'P' })).toBe(
      wrap(`<ns:set xmlns:ns="${DISNIX_NS}"><ns:profile>P</ns:profile><ns:derivation>/nix/store/d</ns:derivation></ns:set>`),
    );
  });

  it('repeats list parts and writes nothing for an empty list', () => {
    expect(buildEnvelope('activate', { derivation: '/nix/store/s', container: 'C', type: 'process', arguments: ['a=1', 'b=2'] })).toBe(
      wrap(
        `<ns:activate xmlns:ns="${DISNIX_NS}"><ns:derivation>/nix/store/s</ns:derivation><ns:container>C</ns:container>` +
          '<ns:type>process</ns:type><ns:arguments>a=1</ns:arguments><ns:arguments>b=2</ns:arguments></ns:activate>',
      ),
    );
    expect(buildEnvelope('realise', { derivation: [] })).toBe(wrap(`<ns:realise xmlns:ns="${DISNIX_NS}"></ns:realise>`));
  });

  it('writes booleans, integers and operations without parts', () => {
    expect(buildEnvelope('collectGarbage', { deleteOld: true })).toContain('<ns:deleteOld>true</ns:deleteOld>');
    expect(buildEnvelope('collectGarbage', { deleteOld: false })).toContain('<ns:deleteOld>false</ns:deleteOld>');
    expect(buildEnvelope('cleanSnapshots', { keep: 7, container: '', component: 'X' })).toContain(
      '<ns:keep>7</ns:keep><ns:container></ns:container><ns:component>X</ns:component>',
    );
    expect(buildEnvelope('captureConfig', {})).toBe(wrap(`<ns:captureConfig xmlns:ns="${DISNIX_NS}"></ns:captureConfig>`));
  });

  it('escapes markup characters so the values travel unchanged', () => {
    const profile = `a&b<c>d"e'f\r\ng`;
    const envelope = buildEnvelope('lock', { profile });
    expect(envelope).toContain('<ns:profile>a&amp;b&lt;c&gt;d&quot;e&apos;f&#13;\ng</ns:profile>');
    // Read back by an XML parser, the value is the original string.
    const echoed = envelope.replace(/ns:lock/g, 'ns:lockResponse').replace(/ns:profile/g, 'ns:return');
    expect(readResponse('lock', echoed)).toEqual({ kind: 'result', returns: [profile] });
  });

  it('refuses characters XML cannot carry', () => {
    expect(() => escapeXml('a\u0001b')).toThrow(ClientError);
  });

  it('refuses file parts, which need a transfer', () => {
    expect(() => buildEnvelope('importLocalFile', { closure: ['/tmp/c'] })).toThrow(/transfer/);
  });
});

describe('readResponse', () => {
  const response = (op: string, inner: string): string =>
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ENV_NS}" xmlns:tns="${DISNIX_NS}">` +
    `<soap:Body><tns:${op}Response>${inner}</tns:${op}Response></soap:Body></soap:Envelope>`;

  it('reads the return elements as a list, in order', () => {
    expect(readResponse('realise', response('realise', '<tns:return>/nix/store/a</tns:return><tns:return>/nix/store/b</tns:return>'))).toEqual({
      kind: 'result',
      returns: ['/nix/store/a', '/nix/store/b'],
    });
  });

  it('reads an empty list, an empty return and a single return', () => {
    expect(readResponse('printInvalid', response('printInvalid', ''))).toEqual({ kind: 'result', returns: [] });
    expect(readResponse('queryInstalled', response('queryInstalled', '<tns:return/>'))).toEqual({ kind: 'result', returns: [''] });
    expect(readResponse('export', response('export', '<tns:return>/tmp/closure-1</tns:return>'))).toEqual({
      kind: 'result',
      returns: ['/tmp/closure-1'],
    });
  });

  it('keeps the text of a return as it is: entities, CDATA, line breaks, spaces', () => {
    const nix = '{\n  "echo" = {\n  };\n  x = "a & b";\n}\n';
    expect(readResponse('captureConfig', response('captureConfig', `<tns:return>{\n  "echo" = {\n  };\n  x = "a &amp; b";\n}\n</tns:return>`))).toEqual({
      kind: 'result',
      returns: [nix],
    });
    expect(readResponse('captureConfig', response('captureConfig', `<tns:return><![CDATA[${nix}]]></tns:return>`))).toEqual({
      kind: 'result',
      returns: [nix],
    });
  });

  it('ignores a Header and whitespace between elements', () => {
    const text =
      `<e:Envelope xmlns:e="${ENV_NS}">\n <e:Header><x:y xmlns:x="urn:x"><return>no</return></x:y></e:Header>\n <e:Body>\n` +
      `  <lockResponse xmlns="${DISNIX_NS}">\n   <return>0</return>\n  </lockResponse>\n </e:Body>\n</e:Envelope>\n`;
    expect(readResponse('lock', text)).toEqual({ kind: 'result', returns: ['0'] });
  });

  it('reads a SOAP 1.1 Fault: faultstring and faultcode', () => {
    const fault =
      `<soap:Envelope xmlns:soap="${ENV_NS}"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode>` +
      '<faultstring>[job 3] unlock default\nThere is no lock file!\n</faultstring></soap:Fault></soap:Body></soap:Envelope>';
    expect(readResponse('unlock', fault)).toEqual({
      kind: 'fault',
      faultcode: 'soap:Server',
      faultstring: '[job 3] unlock default\nThere is no lock file!\n',
    });
  });

  it('reads the Reason of a SOAP 1.2-shaped Fault', () => {
    const fault =
      `<soap:Envelope xmlns:soap="${ENV_NS}"><soap:Body><soap:Fault><soap:Code><soap:Value>soap:Receiver</soap:Value></soap:Code>` +
      '<soap:Reason><soap:Text xml:lang="en">it broke</soap:Text></soap:Reason></soap:Fault></soap:Body></soap:Envelope>';
    expect(readResponse('lock', fault)).toEqual({ kind: 'fault', faultcode: 'soap:Receiver', faultstring: 'it broke' });
  });

  it.each<[string, string, RegExp]>([
    ['HTML', '<html><body>Bad Gateway</body></html>', /<html>, not a SOAP Envelope/],
    ['plain text', 'Unauthorized', /Text data outside of root node|root/i],
    ['nothing', '', /empty|root/i],
    ['truncated XML', `<soap:Envelope xmlns:soap="${ENV_NS}"><soap:Body><tns:lockResponse xmlns:tns="${DISNIX_NS}">`, /unclosed|close/i],
    [
      'another operation',
      `<soap:Envelope xmlns:soap="${ENV_NS}"><soap:Body><x:unlockResponse xmlns:x="${DISNIX_NS}"/></soap:Body></soap:Envelope>`,
      /<x:unlockResponse>, not lockResponse/,
    ],
    ['an empty Body', `<soap:Envelope xmlns:soap="${ENV_NS}"><soap:Body/></soap:Envelope>`, /holds no lockResponse/],
    ['an Envelope in a foreign namespace', '<Envelope xmlns="urn:x"><Body/></Envelope>', /not a SOAP Envelope/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => readResponse('lock', text)).toThrow(message);
  });

  it('reads a response split into chunks at any point', () => {
    const text = response('queryRequisites', '<tns:return>/nix/store/ä-1</tns:return><tns:return>/nix/store/b-&lt;2&gt;</tns:return>');
    for (let size = 1; size < 12; size += 1) {
      const reader = new ResponseReader('queryRequisites');
      for (let i = 0; i < text.length; i += size) reader.write(text.slice(i, i + size));
      expect(reader.finish()).toEqual({ kind: 'result', returns: ['/nix/store/ä-1', '/nix/store/b-<2>'] });
    }
  });
});

describe('error messages', () => {
  const url = new URL('https://gw.example/wrong/path');

  it('names host:port and the system error of a failed connection', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(networkError(new URL('http://127.0.0.1:1/x'), refused).message).toMatch(/127\.0\.0\.1:1: .*\(ECONNREFUSED\)/);
    const aggregate = Object.assign(new AggregateError([refused], 'failed'), {});
    expect(networkError(new URL('http://localhost:9/x'), aggregate).message).toMatch(/localhost:9: .*\(ECONNREFUSED\)/);
    const untrusted = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(networkError(url, untrusted).message).toMatch(/gw\.example:443.*not trusted[\s\S]*NODE_EXTRA_CA_CERTS/);
  });

  it('explains 401, 404 and other statuses', () => {
    expect(httpError(url, 401, 'Unauthorized').message).toMatch(/refused the credentials[\s\S]*DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD/);
    expect(httpError(url, 404, 'Not Found').message).toMatch(
      /\/wrong\/path.*endpoint path looks wrong[\s\S]*https:\/\/gw\.example\/DisnixWebService\/services\/DisnixWebService/,
    );
    expect(httpError(url, 503, 'Service Unavailable').message).toMatch(/HTTP 503 Service Unavailable/);
    expect(httpError(url, 301, 'Moved', 'https://other/x').message).toMatch(/https:\/\/other\/x/);
  });
});

describe('usage', () => {
  it('lists every operation flag and option of the table, and the general options', () => {
    const text = usageText();
    for (const name of operationNames) {
      const cli = getOperation(name).cli;
      if (cli) expect(text).toContain(`--${cli.flag}`);
    }
    for (const flag of [
      'shell',
      'target',
      'localfile',
      'remotefile',
      'profile',
      'delete-old',
      'type',
      'arguments',
      'container',
      'component',
      'keep',
      'command',
      'connect-timeout',
      'idle-timeout',
      'help',
      'version',
    ]) {
      expect(text).toContain(`--${flag}`);
    }
    for (const short of [
      '-r, --realise',
      '-q, --query-installed',
      '-t, --target',
      '-p, --profile',
      '-d, --delete-old',
      '-C, --container',
      '-c, --component',
      '-h, --help',
      '-v, --version',
    ]) {
      expect(text).toContain(short);
    }
    for (const variable of [
      'DISNIX_SOAP_CLIENT_USERNAME',
      'DISNIX_SOAP_CLIENT_PASSWORD',
      'DISNIX_SOAP_CLIENT_PASSWORD_FILE',
      'DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT',
      'DISNIX_SOAP_CLIENT_IDLE_TIMEOUT',
    ]) {
      expect(text).toContain(`  ${variable}`);
    }
    expect(text).toContain('http://USER:PASSWORD@HOST:PORT/');
    // The idle limit must not be mistaken for a limit on how long a job may run.
    expect(text).toMatch(/never\s+while the target runs the job/);
    expect(Math.max(...text.split('\n').map((line) => line.length))).toBeLessThanOrEqual(80);
  });

  it('shows the version of package.json', () => {
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(versionText()).toBe(`disnix-soap-client (disnix-webservice ${version})\n`);
  });
});
