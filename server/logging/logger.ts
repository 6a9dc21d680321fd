import type { Writable } from 'node:stream';
import winston from 'winston';
import type { LogLevel } from '../config/config';
import { currentRequestId } from './request-context';

/** The narrow logging surface the gateway's modules depend on. */
export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

const SECRET_KEYS = /^(password|authorization|proxy-authorization|pass)$/i;

/** A last line of defence: whatever a caller passes, secrets never reach a log line. */
const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key)) info[key] = '[redacted]';
  }
  return info;
})();

export interface LoggerOptions {
  readonly level: LogLevel;
  /** One JSON object per line (for log collectors) instead of readable text. */
  readonly json?: boolean;
  /** Where lines go instead of stderr (tests read them). */
  readonly stream?: Writable;
}

export function createLogger(options: LoggerOptions): Logger {
  const readable = winston.format.printf(({ level, message, timestamp, ...meta }) => {
    const details = Object.entries(meta)
      .filter(([key, value]) => key !== 'log' && value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    const log = typeof meta.log === 'string' && meta.log !== '' ? `\n${meta.log.trimEnd()}` : '';
    return `${timestamp} ${level} ${message}${details ? ` ${details}` : ''}${log}`;
  });
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] });
  const log = winston.createLogger({
    level: options.level,
    format: winston.format.combine(redactSecrets, winston.format.timestamp(), options.json ? winston.format.json() : readable),
    transports: [transport],
  });
  return withRequestId(log);
}

/**
 * Adds the id of the request being served to each line. Read here, at the call, because
 * winston may format a line later, outside the request's async context.
 */
function withRequestId(log: Logger): Logger {
  const meta = (extra?: Record<string, unknown>) => {
    const requestId = currentRequestId();
    return requestId === undefined ? extra : { requestId, ...extra };
  };
  return {
    error: (message, extra) => log.error(message, meta(extra)),
    warn: (message, extra) => log.warn(message, meta(extra)),
    info: (message, extra) => log.info(message, meta(extra)),
    debug: (message, extra) => log.debug(message, meta(extra)),
  };
}
