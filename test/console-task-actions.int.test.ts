import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdForInput } from '../graph/tool-approval.repository.js';
import { Role } from '../src/domain/auth.js';
import { a11yProblems, CHROMIUM, NO_CHROMIUM } from './utils/browser.js';
import { FOCUSED_NAME, startConsole, type ConsoleWorld } from './utils/console-page.js';

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

  const statusOf = (page: Page) => page.getByLabel('Task status').textContent();

  it('cancels an open task after a confirmation, retries it, and follows it live', async () => {
    const id = await task('Cancel me');
    const page = await world.signedIn(world.server.adminKey, `#/tasks/${id}`);
    await expect.poll(() => statusOf(page)).toBe('PENDING');
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    const cancel = page.getByRole('button', { name: 'Cancel task' });
    const confirm = page.getByRole('alertdialog', { name: 'Cancel this task?' });
    // Escape keeps the task and gives focus back.
    await cancel.click();
    await confirm.waitFor();
    expect(await a11yProblems(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'detached' });
    expect(await page.evaluate(FOCUSED_NAME)).toBe('Cancel task');
    expect(await statusOf(page)).toBe('PENDING');
    await cancel.click();
    await confirm.getByRole('button', { name: 'Yes, cancel it' }).click();
    await expect.poll(() => statusOf(page)).toBe('CANCELLED');
    expect(await cancel.count()).toBe(0);
    await page.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => statusOf(page)).toBe('PENDING');
    await cancel.waitFor();
    // A change made elsewhere reaches the screen by its live event, buttons and all.
    expect((await world.server.gql(`mutation { cancelTask(id: "${id}") { id } }`)).errors).toBe(
      undefined,
    );
    await expect.poll(() => statusOf(page)).toBe('CANCELLED');
    await page.getByRole('button', { name: 'Retry' }).waitFor();
    await page.close();
  });

  it('shows the API’s refusal when the task ended while the cancel was being confirmed', async () => {
    const id = await task('Cancelled meanwhile');
    const page = await world.signedIn(world.server.adminKey, `#/tasks/${id}`);
    await page.getByRole('button', { name: 'Cancel task' }).click();
    expect((await world.server.gql(`mutation { cancelTask(id: "${id}") { id } }`)).errors).toBe(
      undefined,
    );
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await expect
      .poll(() => page.getByRole('alert').allTextContents())
      .toContainEqual(expect.stringContaining('Cannot cancel this task'));
    await page.close();
  });

  it('offers a VIEWER neither Cancel nor Retry', async () => {
    const open = await task('Open, seen by a viewer');
    const failed = await task(
      'Failed, seen by a viewer',
      { status: 'IN_PROGRESS' },
      { status: 'FAILED', error: 'it broke' },
    );
    const page = await world.signedIn(await world.server.keyFor(Role.VIEWER), `#/tasks/${open}`);
    for (const id of [open, failed]) {
      await page.goto(`${world.base}#/tasks/${id}`);
      await page.getByLabel('Task status').waitFor();
      await page.waitForTimeout(300);
      expect(await page.getByRole('button', { name: /cancel|retry/i }).count()).toBe(0);
    }
    await page.close();
  });

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

  it('shows a step waiting for a budget as a budget wait, with how to raise it, to try again or skip', async () => {
    const budget =
      'BUDGET_EXCEEDED: the task budget of 100 tokens for t1 is reached (spent 120 tokens); ' +
      'raise it with setBudget(scope: TASK, id: "t1", tokens: ...) to go on, or cancel the work';
    const spent = await task('Over its budget', { status: 'AWAITING_APPROVAL', error: budget });
    const held = await task('Needs a sign-off', { status: 'AWAITING_APPROVAL' });
    const page = await world.signedIn(world.server.adminKey);
    await page.goto(`${world.base}#/tasks/${spent}`);
    const panel = page.getByRole('region', { name: 'Approvals' });
    await expect
      .poll(() => panel.textContent())
      .toMatch(/“Over its budget” waits for a budget: the task budget of 100 tokens .* raise it/);
    expect(await panel.textContent()).toContain('goes on by itself once the budget is raised');
    // approveTask tries it again, rejectTask skips it (README, Budgets): both stay on offer.
    const names = await panel.getByRole('button').evaluateAll((bs) => bs.map((b) => b.ariaLabel));
    expect(names).toEqual(['Try Over its budget again', 'Skip Over its budget']);
    expect(await a11yProblems(page)).toEqual([]);
    await panel.getByRole('button', { name: 'Skip Over its budget' }).click();
    await expect.poll(() => statusOf(page)).toBe('SKIPPED');
    // A step that waits for a person still offers the decision.
    await page.goto(`${world.base}#/tasks/${held}`);
    await panel.getByRole('button', { name: 'Approve Needs a sign-off' }).waitFor();
    expect(await panel.textContent()).not.toContain('budget');
    await page.close();
  });

  it('rejects a step with the reason typed, and with none when left empty', async () => {
    const page = await world.signedIn(world.server.adminKey);
    for (const [typed, error] of [
      ['  Not this quarter ', /^rejected by .+: Not this quarter$/],
      ['', /^rejected by [^:]+$/],
    ] as const) {
      const title = `Sign-off, rejected with "${typed}"`;
      const id = await task(title, { status: 'AWAITING_APPROVAL' });
      await page.goto(`${world.base}#/tasks/${id}`);
      const reason = page.getByLabel(`Reason (optional) for rejecting ${title}`);
      await reason.waitFor();
      expect(await a11yProblems(page)).toEqual([]);
      await reason.fill(typed);
      await page.getByRole('button', { name: `Reject ${title}` }).click();
      await expect.poll(() => statusOf(page)).toBe('SKIPPED');
      const read = await world.server.gql<{ task: { error: string } }, never>(
        `query($id: ID!) { task(id: $id) { error } }`,
        { id } as never,
      );
      expect(read.data?.task.error).toMatch(error);
    }
    await page.close();
  });

  /** A step AWAITING_INPUT for one held call (`call_1`), as a run that stopped for it leaves it. */
  async function heldCall(title: string) {
    const id = await task(title, { status: 'IN_PROGRESS' });
    await world.server.graph.write(async (tx) => {
      const runId = randomUUID();
      await tx.run({
        cypher: `MATCH (t:Task {tenantId: $tenantId, id: $id}) SET t.status = 'AWAITING_INPUT'
                 CREATE (:Run {id: $runId, tenantId: $tenantId, status: 'INTERRUPTED', attempt: 1,
                               startedAt: datetime(), endedAt: datetime()})-[:OF]->(t)`,
        params: { tenantId: world.server.tenantId, id, runId },
      });
      const calls = [{ callId: 'call_1', tool: 'report_progress', args: '{"note":"draft"}' }];
      await holdForInput(tx, { tenantId: world.server.tenantId, taskId: id, runId, calls });
    });
    return id;
  }

  it('rejects a held call with the reason typed for the agent, and with none when left empty', async () => {
    const page = await world.signedIn(world.server.adminKey);
    for (const [typed, kept] of [
      ['  Use the figures in the brief ', 'Use the figures in the brief'],
      ['', null],
    ] as const) {
      const id = await heldCall(`Held, rejected with "${typed}"`);
      await page.goto(`${world.base}#/tasks/${id}`);
      const reason = page.getByLabel('Reason for the agent (optional)');
      await reason.waitFor();
      expect(await a11yProblems(page)).toEqual([]);
      await reason.fill(typed);
      await page.getByRole('button', { name: 'Reject call' }).click();
      const requests = async () =>
        (
          await world.server.gql<
            { task: { toolCallRequests: { status: string; reason: string | null }[] } },
            never
          >(`query($id: ID!) { task(id: $id) { toolCallRequests { status reason } } }`, {
            id,
          } as never)
        ).data?.task.toolCallRequests;
      await expect.poll(requests).toEqual([{ status: 'REJECTED', reason: kept }]);
      await expect.poll(() => statusOf(page)).not.toBe('AWAITING_INPUT');
    }
    await page.close();
  });

  it('offers no decision on a held call whose step has ended', async () => {
    const id = await heldCall('Held then cancelled');
    const page = await world.signedIn(world.server.adminKey);
    await page.goto(`${world.base}#/tasks/${id}`);
    const approve = page.getByRole('button', { name: 'Approve call' });
    await approve.waitFor();
    // Cancelled: the API refuses a decision (CONFLICT), so none is offered.
    expect((await world.server.gql(`mutation { cancelTask(id: "${id}") { id } }`)).errors).toBe(
      undefined,
    );
    await page.reload();
    await expect.poll(() => statusOf(page)).toContain('CANCELLED');
    expect(await approve.count()).toBe(0);
    await page.close();
  });

  it('says beside a CANCELLED step that approvePlan removed it from the plan, so it does not count', async () => {
    const root = await task('Plan with a removed step');
    const step = async (title: string) => {
      const made = await world.server.gql<{ createTask: { id: string } }, never>(
        `mutation($title: String!, $parentId: ID!) {
          createTask(input: { title: $title, parentId: $parentId }) { id }
        }`,
        { title, parentId: root } as never,
      );
      const id = made.data!.createTask.id;
      expect((await world.server.gql(`mutation { cancelTask(id: "${id}") { id } }`)).errors).toBe(
        undefined,
      );
      return id;
    };
    const removed = await step('Cancelled, then removed');
    const kept = await step('Cancelled, still the plan’s');
    // As approvePlan(edits: { remove }) leaves a step a person had cancelled.
    await world.server.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (t:Task {tenantId: $tenantId, id: $id}) SET t.removedFromPlan = true`,
        params: { tenantId: world.server.tenantId, id: removed },
      }),
    );
    const page = await world.signedIn(world.server.adminKey, `#/tasks/${root}`);
    const row = (id: string) => page.locator(`#step-${id}`);
    await expect.poll(() => row(removed).textContent()).toContain('removed from the plan');
    expect(await row(removed).locator('.status').textContent()).toBe('CANCELLED');
    expect(await row(kept).textContent()).not.toContain('removed from the plan');
    expect(await a11yProblems(page)).toEqual([]);
    await page.close();
  });

  it('logged no error in the browser', () => {
    expect(world.errors).toEqual([]);
  });
});

if (!CHROMIUM) console.warn(`[console] skipped: ${NO_CHROMIUM}`);
