import { Format, SingleBar, type Options, type Params } from 'cli-progress';

/**
 * The progress of a transfer on stderr: bytes so far, rate and time left. Shown only when
 * stderr is a terminal: under a coordinator, stderr is a log, and a bar would only litter it.
 */
export interface Progress {
  /** Counts bytes moved. */
  add(bytes: number): void;
  /** Sets or corrects the total, once known. */
  setTotal(total: number): void;
  /** Ends the bar (its last state stays on screen). */
  stop(): void;
}

const silent: Progress = { add() {}, setTotal() {}, stop() {} };

export function createProgress(label: string, total: number | undefined, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return silent;
  const bar = new SingleBar({
    stream,
    format: (options: Options, params: Params) => formatLine(label, options, params),
    fps: 8,
    barsize: 24,
    hideCursor: true,
    noTTYOutput: false,
    barCompleteChar: '#',
    barIncompleteChar: '-',
  });
  // Started at the first byte, not before: a download waits for its export job first, and
  // that wait is no part of the transfer's rate.
  let started = false;
  let value = 0;
  let stopped = false;
  const start = () => {
    if (started) return;
    started = true;
    bar.start(total ?? 0, 0);
  };
  return {
    add(bytes) {
      start();
      value += bytes;
      bar.update(value);
    },
    setTotal(newTotal) {
      total = newTotal;
      if (started) bar.setTotal(newTotal);
    },
    stop() {
      if (stopped || !started) return;
      stopped = true;
      bar.update(value);
      bar.stop();
    },
  };
}

function formatLine(label: string, options: Options, params: Params): string {
  const seconds = Math.max((Date.now() - params.startTime) / 1000, 0.001);
  const rate = params.value / seconds;
  const known = params.total > 0;
  const left = known && rate > 0 ? Math.max(0, (params.total - params.value) / rate) : undefined;
  return [
    `${label} ${known ? `[${Format.BarFormat(Math.min(1, params.value / params.total), options)}] ${Math.floor((100 * params.value) / params.total)}%` : ''}`.trimEnd(),
    `${formatBytes(params.value)}${known ? ` / ${formatBytes(params.total)}` : ''}`,
    `${formatBytes(rate)}/s`,
    `ETA ${left === undefined ? '--' : formatSeconds(left)}`,
  ].join(' | ');
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
