import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The process logger (pino, JSON lines on stdout). Secrets never reach it: `redact` drops
 * passwords and tokens wherever they appear in a logged object.
 *
 * @param level - pino level, from the config.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'parley' },
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'authToken',
        '*.authToken',
        'authorization',
        '*.authorization',
      ],
      censor: '[redacted]',
    },
  });
}
