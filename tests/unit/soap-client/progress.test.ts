/**
 * The progress line on a fake terminal with Jest's fake clock: after the last byte of an upload
 * it says the target is importing (and for how long) instead of sitting at 100%; before the
 * first byte of a download, that the target is exporting; and off a terminal it writes nothing.
 */
import { createProgress } from '../../../soap-client/progress';

/** A stream that records what the bar draws; escape sequences (cursor moves) are left out. */
function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  const stream = {
    isTTY,
    columns: 160,
    write(chunk: unknown, callback?: unknown) {
      writes.push(String(chunk));
      if (typeof callback === 'function') callback();
      return true;
    },
  };
  const lines = () => writes.filter((text) => !text.startsWith('\x1b'));
  return { stream: stream as unknown as NodeJS.WriteStream, writes, lines, last: () => lines().at(-1) ?? '' };
}

beforeEach(() => jest.useFakeTimers({ now: Date.parse('2030-01-01T00:00:00Z') }));
afterEach(() => jest.useRealTimers());

describe('createProgress on a terminal', () => {
  it('after the last byte of an upload, shows that the target is importing and for how long', () => {
    const terminal = fakeStream(true);
    const progress = createProgress('upload closure', 4096, 'target importing', terminal.stream);
    progress.add(2048);
    jest.advanceTimersByTime(1000);
    expect(terminal.last()).toMatch(/^upload closure \[#+-+\] 50% \| 2\.0 KiB \/ 4\.0 KiB \| 2\.0 KiB\/s \| ETA 1s$/);
    progress.add(2048);
    progress.waitForTarget();
    expect(terminal.last()).toBe('upload closure [########################] 100% | 4.0 KiB / 4.0 KiB | target importing... 0s');
    jest.advanceTimersByTime(65_000);
    expect(terminal.last()).toBe('upload closure [########################] 100% | 4.0 KiB / 4.0 KiB | target importing... 1m05s');
    progress.stop();
    const drawn = terminal.writes.length;
    jest.advanceTimersByTime(10_000);
    expect(terminal.writes.length).toBe(drawn);
  });

  it('before the first byte of a download, shows that the target is exporting; the rate counts from the first byte', () => {
    const terminal = fakeStream(true);
    const progress = createProgress('download closure', undefined, 'target exporting', terminal.stream);
    expect(terminal.writes).toEqual([]);
    progress.waitForTarget();
    expect(terminal.last()).toBe('download closure | target exporting... 0s');
    jest.advanceTimersByTime(125_000);
    expect(terminal.last()).toBe('download closure | target exporting... 2m05s');
    progress.setTotal(10 * 1024);
    progress.add(1024);
    jest.advanceTimersByTime(1000);
    progress.add(1024);
    jest.advanceTimersByTime(1000);
    // 2 KiB in the 2 s since the first byte, not in the 127 s since the start.
    expect(terminal.last()).toMatch(/^download closure \[#+-+\] 20% \| 2\.0 KiB \/ 10\.0 KiB \| 1\.0 KiB\/s \| ETA 8s$/);
    expect(terminal.lines().slice(-3).join('\n')).not.toContain('exporting');
    progress.stop();
  });

  it('without a total (a compressed download), shows the bytes and the rate, no bar and no ETA', () => {
    const terminal = fakeStream(true);
    const progress = createProgress('download closure', undefined, 'target exporting', terminal.stream);
    progress.add(1024);
    jest.advanceTimersByTime(1000);
    progress.add(1024);
    jest.advanceTimersByTime(1000);
    expect(terminal.last()).toBe('download closure | 2.0 KiB | 1.0 KiB/s');
    progress.stop();
  });
});

describe('createProgress off a terminal', () => {
  it('writes nothing at all, waiting included', () => {
    const log = fakeStream(false);
    const progress = createProgress('upload closure', 4096, 'target importing', log.stream);
    progress.add(4096);
    progress.waitForTarget();
    jest.advanceTimersByTime(60_000);
    progress.stop();
    expect(log.writes).toEqual([]);
  });
});
