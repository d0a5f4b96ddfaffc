import { describe, expect, it } from 'vitest';
import { BadInputError } from '../src/domain/errors.js';
import { documentText } from '../src/memory/documents/parse.js';
import { bombPdf, tinyPdf } from './utils/pdf.js';

describe('reading a PDF', () => {
  it('reads the text of a plain PDF', async () => {
    const text = await documentText(tinyPdf(['Initech moved to Austin.']), 'application/pdf');
    expect(text).toContain('Initech moved to Austin.');
  });

  // A 520 KB upload that inflates to 512 MiB took the API's own memory to 2.6 GB and kept
  // reading for a minute after its request had timed out; 10 MB of it would end the process.
  it('refuses a decompression bomb at once, outside the API process memory', async () => {
    const bomb = bombPdf(512);
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const watch = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 10);
    const started = performance.now();
    const err = await documentText(bomb, 'application/pdf').catch((e: unknown) => e);
    clearInterval(watch);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as Error).message).toMatch(/more than \d+ MB of memory to read/);
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(peak - before).toBeLessThan(64 * 2 ** 20);
  }, 60_000);

  // Six bombs at once held six readers of 400 MB each: one OPERATOR key could take gigabytes.
  it('reads two PDFs at a time, so bombs sent together cost two readers of memory', async () => {
    const bomb = bombPdf(512);
    const before = process.memoryUsage.rss();
    let peak = before;
    const watch = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 10);
    const errors = await Promise.all(
      Array.from({ length: 6 }, () =>
        documentText(bomb, 'application/pdf').catch((e: unknown) => e),
      ),
    );
    clearInterval(watch);
    for (const err of errors) expect((err as Error).message).toMatch(/MB of memory to read/);
    expect(peak - before).toBeLessThan(1.3e9);
  }, 120_000);

  // Two readers for every tenant: five bombs of one OPERATOR held another tenant's PDF for 8 s.
  it('gives each tenant its turn: one tenant’s PDFs wait for each other, not another’s', async () => {
    const bomb = bombPdf(512);
    const ended: string[] = [];
    const read = (bytes: Uint8Array, tenant: string, name: string) =>
      documentText(bytes, 'application/pdf', undefined, tenant)
        .catch(() => undefined)
        .then(() => void ended.push(name));
    const bombs = [0, 1, 2].map((i) => read(bomb, 'noisy', `bomb ${i}`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([...bombs, read(tinyPdf(['Initech moved to Austin.']), 'quiet', 'quiet')]);
    expect(ended.indexOf('quiet')).toBeLessThan(2);
  }, 120_000);
});
