import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../src/domain/validate.js';
import { a11yProblems, CHROMIUM, NO_CHROMIUM } from './utils/browser.js';
import { startConsole, type ConsoleWorld } from './utils/console-page.js';

/** The Tasks screen's list past one page, its search, and its errors, in chromium. */
describe.skipIf(!CHROMIUM)('the console’s task list', () => {
  let world: ConsoleWorld;
  // More tasks than a page of the list (50) holds, in and out of a filter and a search.
  const PAGED = 53;
  const CANCELLED = 52;

  /** A task made by hand (no plan, no engine, no agent): it stays where the test puts it. */
  async function task(title: string): Promise<string> {
    const made = await world.server.gql<{ createTask: { id: string } }, { title: string }>(
      `mutation($title: String!) { createTask(input: { title: $title }) { id } }`,
      { title },
    );
    expect(made.errors).toBeUndefined();
    return made.data!.createTask.id;
  }

  beforeAll(async () => {
    world = await startConsole();
    // Oldest first: "Paged task 00" is the oldest of all, the first two are left open.
    for (let i = 0; i < PAGED; i++) {
      const id = await task(`Paged task ${String(i).padStart(2, '0')}`);
      if (i >= PAGED - CANCELLED) {
        const cancelled = await world.server.gql(`mutation { cancelTask(id: "${id}") { id } }`);
        expect(cancelled.errors).toBeUndefined();
      }
    }
  }, 180_000);
  afterAll(() => world?.stop());

  const list = (page: Page) => page.getByRole('region', { name: 'Task list' });
  const rows = (page: Page) => list(page).getByRole('link', { name: /^Paged task \d\d$/ });
  const more = (page: Page) => list(page).getByRole('button', { name: 'Show more tasks' });
  const heading = (page: Page, text: string) =>
    list(page).getByRole('heading', { name: text, exact: true }).waitFor();

  // The list stopped at the newest 50: older tasks could be reached only by a search.
  it('lists every top-level task 50 at a time, keeping older pages on live changes', async () => {
    const page = await world.signedIn(world.server.adminKey, '#/tasks');
    await heading(page, 'Submitted tasks (50+)');
    expect(await rows(page).count()).toBe(50);
    const oldest = list(page).getByRole('link', { name: 'Paged task 00', exact: true });
    expect(await oldest.count()).toBe(0);
    await more(page).click();
    await oldest.waitFor();
    await heading(page, `Submitted tasks (${PAGED})`);
    expect(await more(page).count()).toBe(0);
    // A new task (a live event) reloads the first page: the older ones stay shown.
    await task('Arrived later');
    await list(page).getByRole('link', { name: 'Arrived later', exact: true }).waitFor();
    await heading(page, `Submitted tasks (${PAGED + 1})`);
    expect(await rows(page).count()).toBe(PAGED);
    expect(await a11yProblems(page)).toEqual([]);
    await page.close();
  });

  it('pages a status filter and a search, each from its first page', async () => {
    const page = await world.signedIn(world.server.adminKey, '#/tasks');
    await heading(page, 'Submitted tasks (50+)');
    await page.getByLabel('Status').selectOption('CANCELLED');
    await heading(page, 'Submitted tasks (50+)');
    await more(page).click();
    await heading(page, `Submitted tasks (${CANCELLED})`);
    // A search within the filter starts again from its first page.
    await page.getByLabel('Search').fill('Paged');
    await heading(page, 'Submitted tasks (50+)');
    expect(await rows(page).count()).toBe(50);
    await more(page).click();
    await heading(page, `Submitted tasks (${CANCELLED})`);
    await page.getByLabel('Status').selectOption('');
    await heading(page, 'Submitted tasks (50+)');
    await more(page).click();
    await heading(page, `Submitted tasks (${PAGED})`);
    await page.close();
  });

  // The box took any length; the API refuses a search over LIMITS.search characters.
  it('takes no more search text than the API accepts', async () => {
    const page = await world.signedIn(world.server.adminKey, '#/tasks');
    const search = page.getByLabel('Search');
    expect(await search.getAttribute('maxlength')).toBe(String(LIMITS.search));
    await page.close();
  });

  // A failed search left the previous search's tasks under the error, as if they matched.
  it('shows no tasks of an earlier search under the error of a failed one', async () => {
    const page = await world.signedIn(world.server.adminKey, '#/tasks');
    const search = page.getByLabel('Search');
    await search.fill('Paged task 07');
    await list(page).getByRole('link', { name: 'Paged task 07', exact: true }).waitFor();
    // Past the box's limit by hand: the API's refusal is a real failed search.
    await search.evaluate((el) =>
      (el as { removeAttribute(n: string): void }).removeAttribute('maxlength'),
    );
    await search.fill('x'.repeat(LIMITS.search + 1));
    await expect
      .poll(() => list(page).getByRole('alert').allTextContents())
      .toContainEqual(expect.stringContaining(`at most ${LIMITS.search} characters`));
    expect(await rows(page).count()).toBe(0);
    expect(await more(page).count()).toBe(0);
    await page.close();
  });

  // "reload to see it, then try again" read wrongly under a message that says what to do.
  it('gives no generic advice after a refusal that says what to do', async () => {
    const page = await world.signedIn(world.server.adminKey, '#/tasks');
    await page.getByLabel('Title').fill('Nobody plans this');
    await page.getByRole('button', { name: 'Submit task' }).click();
    const alert = page.getByRole('region', { name: 'Submit a task' }).getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('create or activate one first');
    expect(await alert.textContent()).not.toContain('reload to see it');
    await page.close();
  });

  // An unknown screen had no h1 (every screen has one).
  it('names an unknown screen in a heading, with a way back', async () => {
    const page = await world.signedIn(world.server.adminKey, '#/nope');
    await page.getByRole('heading', { name: 'Not found', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Go to the organisation' }).click();
    await page.getByRole('heading', { name: 'Organisation', level: 1 }).waitFor();
    await page.goto(`${world.base}#/nope`);
    await page.getByRole('heading', { name: 'Not found', level: 1 }).waitFor();
    expect(await a11yProblems(page)).toEqual([]);
    await page.close();
  });

  it('logged no error in the browser', () => {
    expect(world.errors).toEqual([]);
  });
});

if (!CHROMIUM) console.warn(`[console] skipped: ${NO_CHROMIUM}`);
