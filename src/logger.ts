import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout. Keys that may hold secrets are redacted. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['password', '*.password', 'authorization', '*.authorization', 'apiKey', '*.apiKey'],
        censor: '[redacted]',
      },
    },
    destination ?? process.stdout,
  );
}
