import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, NO_CHROMIUM } from './utils/browser.js';
import { startConsole, type ConsoleWorld } from './utils/console-page.js';

/** A task's screen: what a person may do to the task, and how waits are shown. */
describe.skipIf(!CHROMIUM)('the console’s task screen', () => {
  let world: ConsoleWorld;

  beforeAll(async () => {
    world = await startConsole();
  }, 180_000);
  afterAll(() => world?.stop());

  /** A task made by hand (no plan, no engine): it stays where the test puts it. */
  async function task(title: string, ...moves: { status: string; error?: string }[]) {
    const made = await world.server.gql<{ createTask: { id: string } }, never>(
      `mutation($title: String!) { createTask(input: { title: $title }) { id } }`,
      { title } as never,
    );
    expect(made.errors).toBeUndefined();
    const id = made.data!.createTask.id;
    for (const move of moves) {
      const moved = await world.server.gql(
        `mutation($id: ID!, $status: TaskStatus!, $error: String) {
          setTaskStatus(id: $id, status: $status, error: $error) { id }
        }`,
        { id, ...move } as never,
      );
      expect(moved.errors).toBeUndefined();
    }
    return id;
  }

  it('shows a task waiting for a budget or for a person as waiting, with why, not as an error', async () => {
    const budget =
      'BUDGET_EXCEEDED: the tenant budget of 1 USD for t is reached (spent 1.000000 USD); ' +
      'raise it with setBudget to go on, or cancel the work';
    const person = 'waits for a person to decide 1 tool call: search (resolveToolCall)';
    const waits = [
      [await task('Waits for a budget', { status: 'AWAITING_APPROVAL', error: budget }), 'budget'],
      [
        await task(
          'Waits for a person',
          { status: 'IN_PROGRESS' },
          { status: 'AWAITING_INPUT', error: person },
        ),
        'person to decide 1 tool call',
      ],
    ] as const;
    const page = await world.signedIn(world.server.adminKey);
    for (const [id, why] of waits) {
      await page.goto(`${world.base}#/tasks/${id}`);
      await page.getByLabel('Task status').waitFor();
      const summary = page.getByRole('region', { name: 'Summary' });
      await expect.poll(() => summary.textContent()).toMatch(new RegExp(`Waiting.*${why}`));
      const steps = page.getByRole('region', { name: 'Steps' });
      expect(await steps.textContent()).toMatch(new RegExp(`Waiting.*${why}`));
      for (const part of [summary, steps]) {
        expect(await part.textContent()).not.toContain('Error');
        expect(await part.locator('.error').count()).toBe(0);
      }
    }
    await page.close();
  });

  it('logged no error in the browser', () => {
    expect(world.errors).toEqual([]);
  });
});

if (!CHROMIUM) console.warn(`[console] skipped: ${NO_CHROMIUM}`);
