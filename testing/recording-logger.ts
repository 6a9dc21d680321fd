import type { Logger } from '../server/logging/logger';

export interface LogRecord {
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  readonly message: string;
  readonly [key: string]: unknown;
}

/** A gateway logger that keeps what it is told, for tests to look at the fields of log lines. */
export function recordingLogger(): Logger & { readonly records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: LogRecord['level']) => (message: string, meta?: Record<string, unknown>) => {
    records.push({ ...meta, level, message });
  };
  return { records, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
