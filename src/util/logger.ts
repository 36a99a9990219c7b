// The one logger (pino, JSON lines on stderr). Never pass keys, tokens or Authorization headers to it:
// the redact list is a second line of defence, not the first.
import { pino, type Logger } from 'pino';
import { logLineWriter, resolveLogFormat, type LogFormat } from './log-format.js';

export type { Logger, LogFormat };

/**
 * `format`: --log-format; by default text when stderr is a terminal, JSON otherwise (log-format.ts). A
 * worker thread must be given it: its stderr is a pipe to the main thread.
 */
export function createLogger(options: { level?: string; name?: string; format?: LogFormat } = {}): Logger {
  const format = options.format ?? resolveLogFormat(undefined, process.stderr.isTTY);
  const logger = pino(
    {
      level: options.level ?? process.env['KUBEPKI_LOG_LEVEL'] ?? 'info',
      name: options.name ?? 'kubepki',
      hooks: { streamWrite: logLineWriter(format) },
      redact: {
        // Not a bare 'key': controllers log their work-queue key (namespace/name) under that name.
        paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'privateKey', '*.privateKey', 'keyPem', '*.keyPem'],
        censor: '[REDACTED]',
      },
    },
    pino.destination(2),
  );
  formats.set(logger, format);
  return logger;
}

const formats = new WeakMap<Logger, LogFormat>();

/** The format a logger made by createLogger writes (what a worker thread's logger must use too). */
export function logFormatOf(logger: Logger): LogFormat {
  return formats.get(logger) ?? 'json';
}

/** A logger that discards everything (tests, library use). */
export const silentLogger: Logger = pino({ level: 'silent' });
