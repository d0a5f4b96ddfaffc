import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

/** A stream that collects what is written, and says whether it is a terminal. */
function sink(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  /** What was written, once `lines` lines have arrived. */
  const read = async (lines: number) => {
    for (let i = 0; i < 100 && text.split('\n').length <= lines; i++) {
      await new Promise((r) => setImmediate(r));
    }
    return text;
  };
  return { stream, read };
}

describe('the logger', () => {
  it('pretty-prints on a terminal, secrets still redacted', async () => {
    const out = sink(true);
    const logger = createLogger('info', out.stream);
    logger.info({ password: 'hunter2-secret' }, 'Agent platform ready');
    const text = await out.read(1);
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*Agent platform ready/);
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('hunter2-secret');
    expect(text).not.toContain('"level"');
    expect(() => JSON.parse(text.split('\n')[0]!)).toThrow();
  });

  it('writes one JSON object per line when the output is not a terminal', async () => {
    const out = sink(false);
    const logger = createLogger('info', out.stream);
    logger.info({ authorization: 'Bearer ap_secret' }, 'Agent platform ready');
    logger.debug('below the level');
    const [line, rest] = (await out.read(1)).split('\n');
    expect(JSON.parse(line!)).toMatchObject({
      level: 30,
      msg: 'Agent platform ready',
      authorization: '[redacted]',
    });
    expect(rest).toBe('');
  });

  it('writes nothing when silent, even on a terminal', async () => {
    const out = sink(true);
    createLogger('silent', out.stream).error('not shown');
    expect(await out.read(1)).toBe('');
  });
});
