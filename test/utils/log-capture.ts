import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

/** One JSON log entry as pino writes it (level 30 info, 40 warn, 50 error). */
export type LogEntry = { level: number; msg: string; [key: string]: unknown };

/** A real pino logger (the app's createLogger) whose JSON lines the test can read. */
export function captureLogger(level = 'debug'): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) entries.push(JSON.parse(line) as LogEntry);
      done();
    },
  });
  return { logger: createLogger(level, stream), entries };
}
