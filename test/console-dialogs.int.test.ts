import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../src/domain/validate.js';
import { CHROMIUM, NO_CHROMIUM } from './utils/browser.js';
import { FOCUSED_NAME, startConsole, type ConsoleWorld } from './utils/console-page.js';

/** The console's dialogs and the wizard's fields, in chromium against the real API. */
describe.skipIf(!CHROMIUM)('the console’s dialogs', () => {
  let world: ConsoleWorld;

  beforeAll(async () => {
    world = await startConsole();
  }, 180_000);
  afterAll(() => world?.stop());

  const focused = (page: Page) => page.evaluate(FOCUSED_NAME);

  it('closes the new-agent wizard on Escape and gives focus back to the button that opened it', async () => {
    const page = await world.signedIn(world.server.adminKey);
    const wizard = page.getByRole('region', { name: 'New agent' });
    await page.getByRole('button', { name: 'New agent' }).click();
    await wizard.waitFor();
    await page.keyboard.press('Escape');
    await wizard.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('New agent');
    // From a later step too, with focus in its field.
    await page.keyboard.press('Enter');
    await page.getByLabel('Name').fill('Escaped');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Capabilities').waitFor();
    await page.keyboard.press('Escape');
    await wizard.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('New agent');
    await page.close();
  });

  it('closes a provenance panel on Escape and gives focus back to its Provenance button', async () => {
    const made = await world.server.gql(
      `mutation { recordKnowledge(input: { content: "Escape closes panels." }) { id } }`,
    );
    expect(made.errors).toBeUndefined();
    const page = await world.signedIn(world.server.adminKey, '#/knowledge');
    await page.getByRole('button', { name: 'Provenance' }).first().click();
    const panel = page.getByRole('region', { name: 'Provenance' });
    await panel.waitFor();
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('Provenance');
    await page.close();
  });

  it('refuses a capability longer than the API allows on the step where it is typed', async () => {
    const page = await world.signedIn(world.server.adminKey);
    await page.getByRole('button', { name: 'New agent' }).click();
    await page.getByLabel('Name').fill('Long names');
    await page.getByRole('button', { name: 'Next' }).click();
    const field = page.getByLabel('Capabilities');
    const valid = (el: unknown) => (el as { validity: { valid: boolean } }).validity.valid;
    // LIMITS.name is the API's own limit (createAgent refuses longer capability names).
    await field.fill(`research, ${'x'.repeat(LIMITS.name + 1)}`);
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await page.getByText('Step 2 of 3').count()).toBe(1);
    expect(await field.evaluate(valid)).toBe(false);
    expect(await page.getByText(`at most ${LIMITS.name} characters`).count()).toBe(1);
    // As long as the API allows is fine.
    await field.fill(`research, ${'x'.repeat(LIMITS.name)}`);
    expect(await field.evaluate(valid)).toBe(true);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Step 3 of 3').waitFor();
    await page.getByRole('button', { name: 'Create agent' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Long names');
    await page.close();
  });

  it('logged no error in the browser', () => {
    expect(world.errors).toEqual([]);
  });
});

if (!CHROMIUM) console.warn(`[console] skipped: ${NO_CHROMIUM}`);
