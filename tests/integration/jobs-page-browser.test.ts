import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { appendFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { addStorePath } from '../../testing/demo-store';
import { startGatewayEnvironment, useGatewayEnvironment } from '../../testing/gateway-fixture';
import { launchChromium } from '../../testing/headless-chromium';
import { createSoapTestClient, type SoapTestClient } from '../../testing/soap-test-client';

/**
 * The jobs page in a real headless Chromium: jobs run through SOAP appear, their logs open and
 * follow, failures are marked, and nothing a caller or a log says can run in the page. With
 * JOBS_PAGE_SCREENSHOT=docs/jobs-page.png it also takes the README's screenshot.
 */
const env = useGatewayEnvironment();
let browser: Browser;
let page: Page;
let soap: SoapTestClient;
let webApp: string;
const problems: string[] = [];
const HOSTILE = '<img src=x onerror="window.pwned = 1"><script>window.pwned = 2</script>';

jest.setTimeout(60_000);

beforeAll(async () => {
  soap = await createSoapTestClient(env.url, env.username, env.password);
  webApp = await addStorePath(env.daemon.stateDir, 'web-app', 'a web application\n');
  browser = await launchChromium();
  const context = await browser.newContext({
    httpCredentials: { username: env.username, password: env.password },
    viewport: { width: 1280, height: 860 },
  });
  page = await context.newPage();
  // A CSP violation or a script error on our own page is a bug, whatever the test checks.
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${new URL(env.url).origin}/DisnixWebService/`);
});
afterAll(async () => {
  await browser?.close();
});

const row = (operation: string, outcome: string) => page.locator(`#jobs tbody tr.outcome-${outcome}`, { has: page.locator(`td code:text-is("${operation}")`) });

test('shows the daemon ready, the WSDL link and the operations', async () => {
  await page.locator('#daemon.ready').waitFor();
  expect(await page.locator('#wsdl').getAttribute('href')).toBe('services/DisnixWebService?wsdl');
  expect(await page.locator('#operations li').count()).toBeGreaterThan(20);
  await page.locator('#summary', { hasText: 'No jobs yet.' }).waitFor();
});

test('a job run through SOAP appears, and its log follows it live until it succeeds', async () => {
  // Long enough that the checks below see it running even on a busy machine.
  const running = soap.call('activate', { derivation: webApp, container: 'echo', type: 'echo', arguments: ['delay=8000'] });
  const job = row('activate', 'running');
  await job.waitFor();
  expect(await job.locator('.arg').first().textContent()).toBe('derivation=…-web-app');
  expect(await job.locator('.arg').first().getAttribute('title')).toContain(webApp);
  expect(await job.locator('td').nth(3).textContent()).toBe(env.username);
  await job.locator('.job-link').click();
  await page.locator('#log-panel.running').waitFor();
  await page.locator('#log', { hasText: 'Echo module: Activate service' }).waitFor();
  expect(await page.locator('#log-status').textContent()).toMatch(/follows live/);
  // A line the daemon writes now shows up while the job still runs.
  const jobId = (await job.locator('.job-link').textContent())!.slice(1);
  await appendFile(join(env.daemon.logDir, jobId), 'error: something went wrong, retrying\n');
  await page.locator('#log .bad', { hasText: 'something went wrong' }).waitFor();
  expect(await page.locator('#log-panel').getAttribute('class')).toBe('running');
  await running;
  await page.locator('#log-panel.succeeded').waitFor();
  await row('activate', 'success').waitFor();
});

test('a failed job is marked failed, and its log says why', async () => {
  await soap.fault('unlock', { profile: 'never-locked' });
  const failed = row('unlock', 'failure');
  await failed.waitFor();
  expect(await failed.locator('.badge').textContent()).toBe('failure');
  await failed.click();
  await page.locator('#log-panel.failed').waitFor();
  await page.locator('#log .bad', { hasText: 'There is no lock file!' }).waitFor();
  expect(await page.locator('#log-status').textContent()).toMatch(/ended: failure/);
});

test('neither arguments nor log lines can inject markup or script', async () => {
  await soap.fault('activate', { derivation: webApp, container: 'echo', type: 'echo', arguments: [`fail=${HOSTILE}`] });
  const failed = row('activate', 'failure');
  await failed.waitFor();
  await failed.locator('.job-link').click();
  await page.locator('#log-panel.failed').waitFor();
  await page.locator('#log .bad', { hasText: HOSTILE }).waitFor();
  expect(await page.locator('#jobs img, #jobs script, #log img, #log script').count()).toBe(0);
  expect(await failed.locator('.arg').nth(3).textContent()).toBe(`arguments=fail=${HOSTILE}`);
  expect(await page.evaluate('window.pwned')).toBeUndefined();
});

test('filters by outcome and by operation', async () => {
  await page.selectOption('#outcome-filter', 'failed');
  await page.locator('#summary', { hasText: '2 jobs matching the filters' }).waitFor();
  expect(await page.locator('#jobs tbody tr.outcome-success').count()).toBe(0);
  await page.selectOption('#operation-filter', 'unlock');
  await page.locator('#summary', { hasText: '1 job matching the filters' }).waitFor();
  await page.selectOption('#outcome-filter', '');
  await page.selectOption('#operation-filter', '');
  await page.locator('#summary', { hasText: /^3 jobs, most recent first/ }).waitFor();
});

test('opened as http://user:password@host/..., as operators often do, the page fills its table all the same', async () => {
  // A context of its own, without stored credentials: the login comes from the address alone.
  // UTC, so that the date and time shown can be checked against the job's UTC start.
  const context = await browser.newContext({ timezoneId: 'UTC' });
  const withCredentials = await context.newPage();
  const errors: string[] = [];
  withCredentials.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  withCredentials.on('pageerror', (error) => errors.push(error.message));
  try {
    const address = new URL('/DisnixWebService/', new URL(env.url).origin);
    address.username = encodeURIComponent(env.username);
    address.password = encodeURIComponent(env.password);
    await withCredentials.goto(address.href);
    // Whatever the first answer was, it must be the list, not "The gateway did not answer: ...".
    await withCredentials.locator('#summary', { hasText: /^(?!Loading)/ }).waitFor();
    expect(await withCredentials.locator('#summary').textContent()).toMatch(/^3 jobs, most recent first/);
    expect(await withCredentials.locator('#jobs tbody tr').count()).toBe(3);
    await withCredentials.locator('#daemon.ready').waitFor();

    // The start: date and time; the duration: a unit and a sensible number of digits.
    const first = withCredentials.locator('#jobs tbody tr').first();
    const started = await first.locator('time').getAttribute('datetime');
    expect(await first.locator('time').textContent()).toBe(started!.slice(0, 19).replace('T', ' '));
    expect(await first.locator('td').nth(6).textContent()).toMatch(/^(\d{1,3} ms|\d\.\d s|\d{1,2} s|\d{1,2} min \d\d s|\d{1,2} h \d\d min)$/);

    // The job's log opens and streams too (EventSource, same rule as fetch).
    await first.locator('.job-link').click();
    await withCredentials.locator('#log-panel.failed').waitFor();
    await withCredentials.locator('#log .bad', { hasText: HOSTILE }).waitFor();
    expect(await withCredentials.locator('#log-raw').getAttribute('href')).not.toContain('@');
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});

test('the page broke no rule of its own Content-Security-Policy', () => {
  expect(problems).toEqual([]);
});

// Always taken, so the picture's scene is checked too; kept in docs/ only when asked for.
const screenshot = process.env.JOBS_PAGE_SCREENSHOT ?? join(tmpdir(), `jobs-page-${process.pid}.png`);
test('takes the README screenshot: a deployment with a failed activation', async () => {
  // Its own gateway, so that the picture shows a deployment rather than the tests above.
  const demo = await startGatewayEnvironment();
  const client = await createSoapTestClient(demo.url, demo.username, demo.password);
  try {
    const context = await browser.newContext({ httpCredentials: { username: demo.username, password: demo.password }, viewport: { width: 1280, height: 760 } });
    const shot = await context.newPage();
    await shot.goto(`${new URL(demo.url).origin}/DisnixWebService/`);
    const services = await Promise.all(
      ['postgresql-16.4', 'webapp-api-2.3.1', 'nginx-1.26.2'].map((name) => addStorePath(demo.daemon.stateDir, name, `${name}\n`)),
    );
    await client.call('lock', { profile: 'default' });
    await client.call('queryInstalled', { profile: 'default' });
    await client.call('activate', { derivation: services[0], container: 'process', type: 'process', arguments: ['port=5432', 'delay=400'] });
    await client.call('activate', { derivation: services[1], container: 'process', type: 'process', arguments: ['port=3000', 'delay=700'] });
    await client.fault('activate', {
      derivation: services[2],
      container: 'process',
      type: 'process',
      arguments: ['port=8080', 'delay=300', 'fail=nginx: [emerg] bind() to 0.0.0.0:8080: Address already in use'],
    });
    const rollback = client
      .call('deactivate', { derivation: services[1], container: 'process', type: 'process', arguments: ['port=3000', 'delay=20000'] })
      .catch(() => undefined);
    const failed = shot.locator('#jobs tbody tr.outcome-failure');
    await shot.locator('#jobs tbody tr.outcome-running').waitFor();
    await failed.locator('.job-link').click();
    await shot.locator('#log .bad', { hasText: 'Address already in use' }).last().waitFor();
    await shot.evaluate('window.scrollTo(0, 0)');
    const path = resolve(screenshot);
    mkdirSync(dirname(path), { recursive: true });
    await shot.screenshot({ path });
    const png = readFileSync(path);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.length).toBeGreaterThan(20_000);
    if (!process.env.JOBS_PAGE_SCREENSHOT) rmSync(path);
    await context.close();
    void rollback;
  } finally {
    await demo.close();
  }
});
