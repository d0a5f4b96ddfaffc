import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../src/console/build.js';
import { Role } from '../src/domain/auth.js';
import { CONSOLE_DIST } from '../src/console/route.js';
import { loadConfig } from '../src/config/config.js';
import { ingestionFromConfig } from '../src/engine/start.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import type { IngestionQueue } from '../src/memory/ingest/queue.js';
import {
  a11yProblems,
  CHROMIUM,
  collectPageErrors,
  launchBrowser,
  NO_CHROMIUM,
} from './utils/browser.js';
import { startOfflineAgents } from './utils/engine.js';
import { ROOT } from './utils/process.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * The console end to end (issue 18): the real API and Neo4j, the console's real build, Debian's
 * chromium through playwright-core. SCREENSHOTS=docs (npm run console:screenshots) saves each
 * screen into docs/ for the README; otherwise they go to .data/screenshots.
 */
const SHOTS = resolve(ROOT, process.env.SCREENSHOTS === 'docs' ? 'docs' : '.data/screenshots');
const LIVE_MS = 60_000;

describe.skipIf(!CHROMIUM)('the console', () => {
  let server: TestServer;
  let scheduler: Scheduler;
  let ingestion: IngestionQueue | undefined;
  let browser: Browser;
  let base: string;
  const errors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(resolve(CONSOLE_DIST, 'index.html'))) await buildConsole();
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    scheduler = startOfflineAgents(server);
    ingestion = ingestionFromConfig(loadConfig({}), {
      uow: server.services.uow,
      logger: server.logger,
      pubsub: server.pubsub,
      tenantIds: [server.tenantId],
    });
    ingestion?.start();
    browser = await launchBrowser();
    base = server.url.replace(/\/graphql$/, '/console/');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await ingestion?.stop();
    await scheduler?.stop();
    await server?.stop();
  });

  /** A page signed in with `key`; `prepare` runs before the console loads (routes). */
  async function signedIn(key: string, prepare?: (page: Page) => Promise<void>): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    errors.push(...collectPageErrors(page));
    await prepare?.(page);
    await page.goto(base);
    // Keyboard only: the key field has focus; Enter submits.
    await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('api-key');
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Screens' }).waitFor();
    return page;
  }

  /** A screen, by the header's navigation. */
  async function goTo(page: Page, screen: string) {
    await page
      .getByRole('navigation', { name: 'Screens' })
      .getByRole('link', { name: screen })
      .click();
  }

  async function shot(page: Page, name: string) {
    await page.waitForTimeout(300);
    await page.screenshot({ path: resolve(SHOTS, `console-${name}.png`), fullPage: true });
  }

  async function expectAccessible(page: Page) {
    expect(await a11yProblems(page)).toEqual([]);
  }

  it('signs in with an API key kept in session storage, never in the URL', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    errors.push(...collectPageErrors(page));
    await page.goto(base);
    await expectAccessible(page);
    await shot(page, 'sign-in');
    await page.getByLabel('API key').fill('ap_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/key/i);
    await page.getByLabel('API key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Screens' }).waitFor();
    expect(page.url()).not.toContain(server.adminKey);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(server.adminKey);
    expect(await page.evaluate(() => Object.values(localStorage))).not.toContain(server.adminKey);
    await page.close();
  });

  it('says a key with characters no key has is not valid, not that the API is away', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    errors.push(...collectPageErrors(page));
    await page.goto(base);
    await page.getByLabel('API key').fill('ap_😀');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not valid/);
    await page.close();
  });

  it('creates a team with the wizard, runs a task whose plan a person approves, and shows its DAG complete live', async () => {
    const page = await signedIn(server.adminKey);
    // A name left empty is refused on its own step, not two steps later by the API.
    await page.getByRole('button', { name: 'New agent' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await page.getByText('Step 1 of 3').count()).toBe(1);
    const missing = (el: unknown) => (el as { validity: { valid: boolean } }).validity.valid;
    expect(await page.getByLabel('Name').evaluate(missing)).toBe(false);
    await page.getByRole('button', { name: 'Cancel' }).click();
    for (const [name, role, capabilities] of [
      ['Chief', 'Chief of Staff', ''],
      ['Researcher', 'Master Operator', 'research, analysis'],
      ['Writer', 'Master Operator', 'writing'],
    ] as const) {
      await page.getByRole('button', { name: 'New agent' }).click();
      await page.getByLabel('Name').fill(name);
      await page.getByLabel('Role').selectOption({ label: role });
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByLabel('Capabilities').fill(capabilities);
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByLabel('Instructions').fill(`You are ${name}.`);
      await page.getByRole('button', { name: 'Create agent' }).click();
      await expect.poll(() => page.getByRole('status').first().textContent()).toContain(name);
      await page
        .getByRole('cell', { name, exact: true })
        .or(page.getByRole('link', { name, exact: true }))
        .first()
        .waitFor();
    }
    // What the API refuses is explained in words, with what to do; the wizard keeps its place.
    await page.getByRole('button', { name: 'New agent' }).click();
    await page.getByLabel('Name').fill('Chief');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Create agent' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('already exists');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expectAccessible(page);
    await shot(page, 'organisation');

    await goTo(page, 'Tasks');
    await page.getByLabel('Title').fill('Weekly research report');
    await page.getByLabel('Description').fill('Research the market, then write a short report.');
    await page.getByLabel('Hold the plan for approval').check();
    await page.getByRole('button', { name: 'Submit task' }).click();
    await page.waitForURL(/#\/tasks\/[^/]+$/);
    const status = page.getByLabel('Task status');
    const approve = page.getByRole('button', { name: 'Approve plan' });
    await approve.waitFor({ timeout: LIVE_MS });
    // The planner's summary ("Planned 2 step(s)…") is not the task's result.
    const result = page.getByRole('region', { name: 'Result' });
    expect(await result.textContent()).not.toContain('Planned');
    expect(await result.textContent()).toContain('No result yet');
    await approve.click();
    await expect.poll(() => status.textContent(), { timeout: LIVE_MS }).toContain('COMPLETED');
    await expect.poll(() => result.textContent()).not.toContain('No result');
    // Every step on the table reached its end, live, with who ran it.
    const steps = page.getByRole('table').filter({ hasText: 'Researcher' });
    await expect.poll(() => steps.textContent()).toContain('COMPLETED');
    // The steps' streamed tokens, each once: one subscription hears the whole task.
    const output = page.getByRole('region', { name: 'Live output' });
    expect(await output.textContent()).toContain('[execution] Execution report (offline model)');
    await page.getByRole('figure', { name: 'Task plan' }).waitFor();
    await expectAccessible(page);
    await shot(page, 'task');
    await goTo(page, 'Tasks');
    await page.getByRole('link', { name: 'Weekly research report' }).first().waitFor();
    await shot(page, 'tasks');
    await page.close();
  });

  it('chats with an agent and shows the reply as it streams', async () => {
    const page = await signedIn(server.adminKey);
    await goTo(page, 'Chat');
    await page.getByLabel('Agent').selectOption({ label: 'Chief' });
    await page.getByLabel('Message').fill('What can you do for us?');
    await page.getByRole('button', { name: 'Send' }).click();
    const log = page.getByRole('region', { name: 'Conversation' });
    await expect
      .poll(() => log.textContent(), { timeout: LIVE_MS })
      .toContain('What can you do for us?');
    // The agent's reply: more text than the question, streamed in.
    await expect
      .poll(async () => ((await log.textContent()) ?? '').length, { timeout: LIVE_MS })
      .toBeGreaterThan('What can you do for us?'.length + 20);
    // The reply is done streaming: no line of the log is still busy.
    await expect.poll(() => log.locator('[aria-busy=true]').count(), { timeout: LIVE_MS }).toBe(0);
    await expectAccessible(page);
    await shot(page, 'chat');
    await page.close();
  });

  it('says so when a chat link names no agent, and offers no message box', async () => {
    const page = await signedIn(server.adminKey);
    await page.goto(`${base}#/chat/${randomUUID()}`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/does not exist/);
    expect(await page.getByLabel('Message').count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Conversation' }).count()).toBe(0);
    await page.close();
  });

  it('says when the live connection drops, and catches up once it is back', async () => {
    // The API "goes away" for the page: its socket closes (1001, as a stopping server's does)
    // and new ones are refused until `down` is false again.
    let down = false;
    const open: WebSocketRoute[] = [];
    const page = await signedIn(server.adminKey, (p) =>
      p.routeWebSocket(/\/graphql$/, (ws) => {
        if (down) return ws.close({ code: 1001, reason: 'Going away' });
        ws.connectToServer();
        open.push(ws);
      }),
    );
    await goTo(page, 'Tasks');
    await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor();
    await expect.poll(() => open.length, { timeout: LIVE_MS }).toBeGreaterThan(0);
    down = true;
    for (const ws of open.splice(0)) await ws.close({ code: 1001, reason: 'Going away' });
    const paused = page.getByText(/Live updates paused/);
    await paused.waitFor({ timeout: LIVE_MS });
    // Submitted while the page hears nothing: its event is lost to it.
    const made = await server.gql(
      `mutation { createTask(input: { title: "Made while the page was offline" }) { id } }`,
    );
    expect(made.errors).toBeUndefined();
    // On a screen that subscribes to nothing, the console still reconnects and says so.
    await goTo(page, 'Performance');
    down = false;
    await paused.waitFor({ state: 'detached', timeout: LIVE_MS });
    await goTo(page, 'Tasks');
    await page
      .getByRole('link', { name: 'Made while the page was offline' })
      .waitFor({ timeout: LIVE_MS });
    await page.close();
  });

  it('uploads a document and follows its ingestion to the end', async () => {
    const page = await signedIn(server.adminKey);
    await goTo(page, 'Knowledge');
    await page.getByLabel('Document', { exact: true }).setInputFiles({
      name: 'acme.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from(
        '# Acme\n\nAcme Corp ships rockets from Denver. Its CEO is Wile E. Coyote.\n',
      ),
    });
    await page.getByLabel('Title', { exact: true }).fill('Acme notes');
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect
      .poll(() => page.getByRole('status').allTextContents(), { timeout: LIVE_MS })
      .toContainEqual(expect.stringContaining('Ingested Acme notes'));
    await page.getByLabel('Search knowledge').fill('report');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    // The provenance of the last hit opens where it is seen, in a short window too.
    await page.getByLabel('Search knowledge').fill('Acme rockets Denver Coyote');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.setViewportSize({ width: 1280, height: 420 });
    const open = page.getByRole('button', { name: 'Provenance' });
    await open.first().waitFor({ timeout: LIVE_MS });
    await open.last().click();
    const panel = page.getByRole('region', { name: 'Provenance' });
    await expect
      .poll(() => panel.evaluate((el) => el.getBoundingClientRect().top))
      .toBeGreaterThanOrEqual(0);
    expect(await panel.evaluate((el) => el.getBoundingClientRect().top)).toBeLessThan(420);
    await page.getByRole('button', { name: 'Close' }).click();
    await page.setViewportSize({ width: 1280, height: 860 });
    await expectAccessible(page);
    await shot(page, 'knowledge');
    await goTo(page, 'Performance');
    await page.getByRole('heading', { name: 'Performance', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Agents' }).waitFor();
    // Figures of this run's own work: the operators' tokens over time, their runs scored.
    const byAgent = page.getByRole('table', { name: /^By agent/ });
    await expect.poll(() => byAgent.textContent(), { timeout: LIVE_MS }).toContain('Researcher');
    await expect.poll(() => page.getByText('Loading…').count(), { timeout: LIVE_MS }).toBe(0);
    await expectAccessible(page);
    await shot(page, 'performance');
    await page.close();
  });

  it('submits a task by keyboard alone, from the navigation to the task', async () => {
    const page = await signedIn(server.adminKey);
    const focused = () =>
      page.evaluate(
        "(() => { const el = document.activeElement; return (el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.textContent || '').trim(); })()",
      );
    /** Tabs until the focused element is called `name`; fails after 40 presses. */
    async function tabTo(name: string) {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        if ((await focused()) === name) return;
      }
      throw new Error(`Tab never reached “${name}”`);
    }
    await tabTo('Tasks');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor();
    await tabTo('Title');
    await page.keyboard.type('Keyboard task');
    await tabTo('Submit task');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/tasks\/[^/]+$/);
    await page.getByRole('heading', { name: 'Keyboard task', level: 1 }).waitFor();
    await page.close();
  });

  it('fits every screen in the window, a phone’s too: nothing to scroll sideways', async () => {
    const page = await signedIn(server.adminKey);
    for (const width of [1280, 400]) {
      await page.setViewportSize({ width, height: 860 });
      for (const screen of ['Organisation', 'Tasks', 'Chat', 'Knowledge', 'Performance']) {
        await goTo(page, screen);
        await page.getByRole('heading', { name: screen, level: 1 }).waitFor();
        await expect.poll(() => page.getByText('Loading…').count(), { timeout: LIVE_MS }).toBe(0);
        // Plain JavaScript, run in the page (the test's TypeScript has no DOM types).
        const overflow = await page.evaluate(
          'document.documentElement.scrollWidth - window.innerWidth',
        );
        expect(overflow, `${screen} at ${width} px`).toBeLessThanOrEqual(0);
      }
    }
    await page.close();
  });

  it('shows a VIEWER every screen but no button that would be refused', async () => {
    const page = await signedIn(await server.keyFor(Role.VIEWER));
    // Every control that runs a mutation (or opens a form for one), by its accessible name.
    const mutating =
      /^(New agent|Create agent|Pause|Activate|Submit task|Send|New conversation|Upload|Approve|Reject|Cancel task|Retry|Delete)\b/i;
    for (const screen of ['Organisation', 'Tasks', 'Chat', 'Knowledge', 'Performance']) {
      await goTo(page, screen);
      await page.getByRole('heading', { name: screen, level: 1 }).waitFor();
      await page.waitForTimeout(500);
      const buttons = await page
        .getByRole('button')
        .evaluateAll((els) =>
          els.map((el) => (el.getAttribute('aria-label') ?? el.textContent ?? '').trim()),
        );
      expect(
        buttons.filter((name) => mutating.test(name)),
        screen,
      ).toEqual([]);
      expect(await page.locator('textarea, input[type=file]').count(), screen).toBe(0);
    }
    await goTo(page, 'Tasks');
    await page.getByRole('link', { name: 'Weekly research report' }).first().click();
    await page.getByLabel('Task status').waitFor();
    expect(await page.getByRole('button', { name: /approve|reject|cancel|retry/i }).count()).toBe(
      0,
    );
    await page.close();
  });

  it('says why it signed out when its key is revoked, and leaves no error behind', async () => {
    const made = await server.gql(
      `mutation { createApiKey(name: "revoked in use", role: OPERATOR) { apiKey { id } secret } }`,
    );
    const { apiKey, secret } = (
      made.data as { createApiKey: { apiKey: { id: string }; secret: string } }
    ).createApiKey;
    const page = await signedIn(secret);
    await goTo(page, 'Tasks');
    await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor();
    await page.waitForTimeout(500); // its subscriptions open
    const revoked = await server.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, {
      id: apiKey.id,
    } as never);
    expect(revoked.errors).toBeUndefined();
    // No request of the page's own: the live socket's refusal (4403) alone signs it out.
    await page.getByLabel('API key').waitFor({ timeout: LIVE_MS });
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/revoked/i);
    await page.waitForTimeout(500); // the socket's disposal, if it were to throw
    await page.close();
  });

  it('logged no error in the browser', () => {
    expect(errors).toEqual([]);
  });
});

if (!CHROMIUM) console.warn(`[console] skipped: ${NO_CHROMIUM}`);
