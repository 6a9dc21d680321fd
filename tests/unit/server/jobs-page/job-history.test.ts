import { ConfigError, parseCommandLine } from '../../../../server/config/config';
import { GatewayError } from '../../../../server/errors/error-catalogue';
import { shortenPaths, showArguments } from '../../../../server/jobs-page/job-arguments';
import { JobHistory } from '../../../../server/jobs-page/job-history';
import { completeUtf8Length } from '../../../../server/jobs-page/log-stream';
import { jobsPagePath, relativeToPage } from '../../../../server/jobs-page/page-path';

/** The jobs page's pieces that need no gateway: history, argument display, paths. */
const HASH = '0123456789abcdfghijklmnpqrsvwxyz';

describe('the job history', () => {
  test('keeps the latest calls, newest first, and forgets the oldest past its size', () => {
    const history = new JobHistory(3);
    for (let i = 1; i <= 5; i++) {
      const call = history.callStarted({ operation: 'lock', args: { profile: `p${i}` } });
      call.jobId(100 + i);
      call.ended();
    }
    expect(history.list().map((job) => job.jobId)).toEqual([105, 104, 103]);
    expect(history.findJob(103)).toBeDefined();
    expect(history.findJob(102)).toBeUndefined(); // forgotten: its log cannot be asked for either
  });

  test('tells outcomes from the gateway error codes; a call without a job id was rejected', async () => {
    let now = 1_000;
    const history = new JobHistory(10, () => now);
    const ok = history.callStarted({ operation: 'lock', args: { profile: 'a' }, user: 'ops', client: '10.0.0.1' });
    const failed = history.callStarted({ operation: 'unlock', args: { profile: 'a' } });
    const late = history.callStarted({ operation: 'realise', args: {} });
    const bad = history.callStarted({ operation: 'set', args: {} });
    const running = history.callStarted({ operation: 'collectGarbage', args: { deleteOld: 'true' } });
    ok.jobId(1);
    failed.jobId(2);
    late.jobId(3);
    running.jobId(5);
    now = 3_500;
    ok.ended();
    failed.ended(new GatewayError('GW_ERR_JOB_FAILED', 'There is no lock file!'));
    late.ended(new GatewayError('GW_ERR_JOB_TIMEOUT', 'realise job 3 got no answer within 1 s.\nThe log so far: ...'));
    bad.ended(new GatewayError('GW_ERR_BAD_REQUEST', 'set: part "profile" is missing'));
    now = 4_000;
    const byOperation = Object.fromEntries(history.list().map((job) => [job.operation, job]));
    expect(byOperation.lock).toMatchObject({
      jobId: 1,
      outcome: 'success',
      user: 'ops',
      client: '10.0.0.1',
      durationMs: 2500,
      message: null,
      startedAt: new Date(1000).toISOString(),
    });
    expect(byOperation.unlock).toMatchObject({ outcome: 'failure', message: null }); // the log tells why
    expect(byOperation.realise).toMatchObject({ outcome: 'timeout', message: 'realise job 3 got no answer within 1 s.' });
    expect(byOperation.set).toMatchObject({ jobId: null, outcome: 'rejected', message: 'set: part "profile" is missing' });
    expect(byOperation.collectGarbage).toMatchObject({ outcome: 'running', durationMs: 3000 });
    await expect(history.findJob(2)!.ended).resolves.toBe('failure');
  });

  test('filters by outcome and by operation', () => {
    const history = new JobHistory(10);
    const a = history.callStarted({ operation: 'lock', args: {} });
    a.jobId(1);
    a.ended();
    const b = history.callStarted({ operation: 'lock', args: {} });
    b.jobId(2);
    b.ended(new GatewayError('GW_ERR_JOB_FAILED', 'x'));
    history.callStarted({ operation: 'unlock', args: {} }).jobId(3);
    expect(history.list({ outcomes: ['failure'] }).map((j) => j.jobId)).toEqual([2]);
    expect(history.list({ operations: ['lock'] }).map((j) => j.jobId)).toEqual([2, 1]);
    expect(history.list({ outcomes: ['running', 'success'], operations: ['unlock'] }).map((j) => j.jobId)).toEqual([3]);
  });
});

describe('arguments as the page shows them', () => {
  test('store paths lose their directory and hash; the full value stays', () => {
    const drv = `/nix/store/${HASH}-hello-2.12`;
    expect(shortenPaths(`${drv}/bin/hello`)).toBe('…-hello-2.12/bin/hello');
    expect(shortenPaths(`/tmp/demo/store/${HASH}-x.drv`)).toBe('…-x.drv');
    expect(shortenPaths('/var/lib/not-a-store-path')).toBe('/var/lib/not-a-store-path');
    expect(showArguments({ derivation: drv, container: 'process', arguments: ['a=1', 'b=2'] })).toEqual([
      { name: 'derivation', full: drv, short: '…-hello-2.12' },
      { name: 'container', full: 'process', short: 'process' },
      { name: 'arguments', full: 'a=1\nb=2', short: 'a=1\nb=2' },
    ]);
  });

  test('long lists and values are cut, so that the history stays small', () => {
    const [shown] = showArguments({ derivation: Array.from({ length: 50 }, (_, i) => `p${i}`) });
    expect(shown.full.split('\n')).toHaveLength(21);
    expect(shown.full).toMatch(/\(30 more\)$/);
    expect(showArguments({ profile: 'x'.repeat(5000) })[0].full.length).toBeLessThan(2100);
    expect(showArguments(null)).toEqual([]);
    const many = showArguments(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`p${i}`, 'x'])));
    expect(many).toHaveLength(13);
    expect(many[12].full).toBe('988 more parts');
  });
});

test("the page sits at the service path's base", () => {
  expect(jobsPagePath('/DisnixWebService/services/DisnixWebService')).toBe('/DisnixWebService/');
  expect(jobsPagePath('/deploy/services/Disnix')).toBe('/deploy/');
  expect(jobsPagePath('/a/soap')).toBe('/a/');
  expect(jobsPagePath('/soap')).toBe('/');
  expect(relativeToPage('/DisnixWebService/', '/DisnixWebService/services/DisnixWebService')).toBe('services/DisnixWebService');
});

test('log chunks end on whole UTF-8 characters', () => {
  const text = Buffer.from('ab€'); // € is 3 bytes
  expect(completeUtf8Length(text, text.length)).toBe(5);
  expect(completeUtf8Length(text, 4)).toBe(2);
  expect(completeUtf8Length(text, 3)).toBe(2);
  expect(completeUtf8Length(Buffer.from('😀'), 4)).toBe(4);
  expect(completeUtf8Length(Buffer.from('😀'), 2)).toBe(0);
});

test('--job-history / DISNIX_WEBSERVICE_JOB_HISTORY size the history (default 500)', () => {
  const credentials = { DISNIX_WEBSERVICE_USERNAME: 'u', DISNIX_WEBSERVICE_PASSWORD: 'p' };
  const size = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const command = parseCommandLine(argv, { ...credentials, ...env });
    return command.kind === 'run' ? command.config.jobHistory : undefined;
  };
  expect(size([])).toBe(500);
  expect(size([], { DISNIX_WEBSERVICE_JOB_HISTORY: '50' })).toBe(50);
  expect(size(['--job-history', '7'], { DISNIX_WEBSERVICE_JOB_HISTORY: '50' })).toBe(7);
  for (const bad of ['0', '-3', 'many', '2.5', '100001']) {
    expect(() => size(['--job-history', bad])).toThrow(ConfigError);
  }
});
