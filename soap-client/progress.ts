import { Format, SingleBar, type Options, type Params } from 'cli-progress';
import { onInterrupt } from './interruption';

/**
 * The progress of a transfer on stderr: bytes so far, rate and time left. Shown only when
 * stderr is a terminal: under a coordinator, stderr is a log, and a bar would only litter it.
 */
export interface Progress {
  /** Counts bytes moved. */
  add(bytes: number): void;
  /** Sets or corrects the total, once known. */
  setTotal(total: number): void;
  /**
   * The request is out and the target works before it answers (imports an upload, exports a
   * download): until the next byte arrives, say so and for how long, rather than show a bar
   * frozen at 100% (or nothing at all) for what can be hours.
   */
  waitForTarget(): void;
  /** Ends the bar (its last state stays on screen). */
  stop(): void;
}

const silent: Progress = { add() {}, setTotal() {}, waitForTarget() {}, stop() {} };

/** What the line shows besides the bar. */
interface LineState {
  readonly label: string;
  /** What the target does while the client waits, such as "target importing". */
  readonly waiting: string;
  /** When the first byte moved: the rate counts from there, not from the wait before it. */
  firstByteAt?: number;
  /** When the wait for the target began, while it lasts. */
  waitingSince?: number;
}

/** `waiting` says what the target does between the request's last byte and the answer's first. */
export function createProgress(label: string, total: number | undefined, waiting: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return silent;
  const state: LineState = { label, waiting };
  const bar = new SingleBar({
    stream,
    format: (options: Options, params: Params) => formatLine(state, options, params),
    fps: 8,
    barsize: 24,
    hideCursor: true,
    noTTYOutput: false,
    barCompleteChar: '#',
    barIncompleteChar: '-',
  });
  // Started at the first byte or the first wait, not before: nothing to show until then.
  let started = false;
  let value = 0;
  let stopped = false;
  let withdraw: () => void = () => undefined;
  const start = () => {
    if (started) return;
    started = true;
    bar.start(total ?? 0, 0);
    // An interrupted client gives the terminal its cursor back (the bar hides it).
    withdraw = onInterrupt(() => bar.stop());
  };
  return {
    add(bytes) {
      if (bytes > 0) {
        state.firstByteAt ??= Date.now();
        state.waitingSince = undefined;
      }
      start();
      value += bytes;
      bar.update(value);
    },
    setTotal(newTotal) {
      total = newTotal;
      if (started) bar.setTotal(newTotal);
    },
    waitForTarget() {
      if (stopped) return;
      state.waitingSince = Date.now();
      start();
      // At once: the bar's timer would show it only at its next tick.
      bar.render();
    },
    stop() {
      if (stopped || !started) return;
      stopped = true;
      bar.update(value);
      bar.stop();
      withdraw();
    },
  };
}

function formatLine(state: LineState, options: Options, params: Params): string {
  const now = Date.now();
  const known = params.total > 0;
  const head =
    `${state.label} ${known ? `[${Format.BarFormat(Math.min(1, params.value / params.total), options)}] ${Math.floor((100 * params.value) / params.total)}%` : ''}`.trimEnd();
  const waited = state.waitingSince === undefined ? undefined : `${state.waiting}... ${formatSeconds((now - state.waitingSince) / 1000)}`;
  if (state.firstByteAt === undefined) return waited === undefined ? head : `${head} | ${waited}`;
  const bytes = `${formatBytes(params.value)}${known ? ` / ${formatBytes(params.total)}` : ''}`;
  if (waited !== undefined) return [head, bytes, waited].join(' | ');
  const seconds = Math.max((now - state.firstByteAt) / 1000, 0.001);
  const rate = params.value / seconds;
  // Without a total (a compressed download gives none) there is no time left to tell: bytes and rate only.
  if (!known) return [head, bytes, `${formatBytes(rate)}/s`].join(' | ');
  const left = rate > 0 ? Math.max(0, (params.total - params.value) / rate) : undefined;
  return [head, bytes, `${formatBytes(rate)}/s`, `ETA ${left === undefined ? '--' : formatSeconds(left)}`].join(' | ');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
