import winston from 'winston';
import type { LogLevel } from './config/config';

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

export function createLogger(options: { level: LogLevel; json?: boolean }): Logger {
  const readable = winston.format.printf(({ level, message, timestamp, ...meta }) => {
    const details = Object.entries(meta)
      .filter(([key, value]) => key !== 'log' && value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    const log = typeof meta.log === 'string' && meta.log !== '' ? `\n${meta.log.trimEnd()}` : '';
    return `${timestamp} ${level} ${message}${details ? ` ${details}` : ''}${log}`;
  });
  return winston.createLogger({
    level: options.level,
    format: winston.format.combine(
      redactSecrets,
      winston.format.timestamp(),
      options.json ? winston.format.json() : readable,
    ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
