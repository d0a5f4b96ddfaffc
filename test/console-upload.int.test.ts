import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, NO_CHROMIUM } from './utils/browser.js';
import { startConsole, type ConsoleWorld } from './utils/console-page.js';

/** The Knowledge screen's upload of a text memory already holds, in chromium. */
describe.skipIf(!CHROMIUM)('the console’s document upload', () => {
  let world: ConsoleWorld;

  beforeAll(async () => {
    world = await startConsole();
  }, 180_000);
  afterAll(() => world?.stop());

  // The same text again is the same document (one per text): the console showed it as if it
  // were read anew, with nothing to tell that memory held it already.
  it('says when the text uploaded was uploaded before', async () => {
    const page = await world.signedIn(world.server.adminKey, '#/knowledge');
    const file = {
      name: 'kite.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Kite\n\nKite Farm grows pears in Lyon.\n'),
    };
    const before = page.getByText('was uploaded before');
    for (const title of ['Kite notes', 'Kite again']) {
      await page.getByLabel('Document', { exact: true }).setInputFiles(file);
      await page.getByLabel('Title', { exact: true }).fill(title);
      await page.getByRole('button', { name: 'Upload' }).click();
      // Its ingestion is followed (no ingestion runs here: its chunks wait).
      await page.getByText(/\d+ of \d+ chunks/).waitFor();
      if (title === 'Kite notes') expect(await before.count()).toBe(0);
    }
    await expect
      .poll(() => before.allTextContents())
      .toEqual([
        'Kite notes was uploaded before: memory holds its text already (only chunks that failed are read again).',
      ]);
    await page.close();
  });

  it('logged no error in the browser', () => {
    expect(world.errors).toEqual([]);
  });
});

if (!CHROMIUM) console.warn(`[console] skipped: ${NO_CHROMIUM}`);
