import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { logIds } from './tracing/tracer.js';

export type { Logger };

/** A stream that may be a terminal (process.stdout is one when a person is watching). */
type Destination = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * Logs on stdout, or on `destination`: one line of JSON per entry, or, when the stream is a
 * terminal, pino-pretty's coloured lines (issue 9: `npm start` printed raw JSON to people).
 * Keys that may hold secrets are redacted in both. A `silent` logger writes nothing. A line
 * written inside a span (a request, a step) carries its `traceId` and `spanId` (issue 17).
 */
export function createLogger(level: string, destination?: Destination): Logger {
  const out = destination ?? process.stdout;
  const options = {
    level,
    mixin: logIds,
    redact: {
      paths: [
        'password',
        '*.password',
        'authorization',
        '*.authorization',
        'apiKey',
        '*.apiKey',
        'headers',
        '*.headers',
      ],
      censor: '[redacted]',
    },
  };
  if (level === 'silent' || !out.isTTY) return pino(options, out);
  const pretty = PinoPretty({
    destination: out,
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    sync: true, // lines written before a crash or exit are not lost
  });
  return pino(options, pretty);
}
