// The one logger (pino, JSON lines on stderr). Never pass keys, tokens or Authorization headers to it:
// the redact list is a second line of defence, not the first.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env['KUBEPKI_LOG_LEVEL'] ?? 'info',
      name: options.name ?? 'kubepki',
      redact: {
        // Not a bare 'key': controllers log their work-queue key (namespace/name) under that name.
        paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'privateKey', '*.privateKey', 'keyPem', '*.keyPem'],
        censor: '[REDACTED]',
      },
    },
    pino.destination(2),
  );
}

/** A logger that discards everything (tests, library use). */
export const silentLogger: Logger = pino({ level: 'silent' });
