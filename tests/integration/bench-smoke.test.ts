import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../testing/paths';

/**
 * The benchmark command works: a tiny run prints its table and writes its JSON. No figure is
 * judged here (a shared, noisy machine would make such a test flaky); `npm run bench` is where
 * figures are read.
 */
const root = PROJECT_ROOT;

test('node dist-dev/bench/main.js --quick prints a table of figures with their baselines', async () => {
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist-dev', 'bench', 'main.js'), '--quick'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  expect(run.stdout).toMatch(/^Machine: \d+ CPUs .*Node\.js v\d+/m);
  expect(run.stdout).toMatch(/^\| Measure +\| Gateway +\| Baseline +\| Ratio +\| Target +\| Met +\| Notes +\|$/m);
  const relayRows = [
    /queryInstalled latency p50, bare Express relay/,
    /queryInstalled throughput, 64 callers, bare Express relay/,
    /queryInstalled throughput, 64 callers, bare node:http relay/,
  ];
  for (const measure of [
    /queryInstalled latency p50/,
    /queryInstalled throughput, 64 callers/,
    ...relayRows,
    /queryInstalled throughput, 64 callers, gateway \/ bare Express relay/,
    /\d+ concurrent 0\.2 s jobs, wall time/,
    /client --lock \+ --unlock/,
  ]) {
    expect(run.stdout).toMatch(new RegExp(`^\\| ${measure.source}`, 'm'));
  }
  const results = join(root, 'bench', 'results', 'bench-quick.json');
  expect(existsSync(results)).toBe(true);
  const json = JSON.parse(readFileSync(results, 'utf8')) as {
    quick: boolean;
    rows: { measure: string; value: number | null; baseline: number | null; target?: string }[];
  };
  expect(json.quick).toBe(true);
  expect(json.rows.length).toBeGreaterThanOrEqual(9);
  // The ceiling rows: the relay answered (a figure, not NaN, which JSON writes as null) and stands
  // next to the direct baseline, with no target of its own.
  for (const measure of relayRows) {
    const row = json.rows.find((candidate) => measure.test(candidate.measure));
    expect(row).toEqual(expect.objectContaining({ value: expect.any(Number), baseline: expect.any(Number) }));
    expect(row!.value).toBeGreaterThan(0);
    expect(row!.target).toBeUndefined();
  }
}, 60_000);
