import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../src/domain/validate.js';
import { CHROMIUM, NO_CHROMIUM } from './utils/browser.js';
import { startConsole, type ConsoleWorld } from './utils/console-page.js';

/** The console's lists past one page, and long names in them, in chromium against the real API. */
describe.skipIf(!CHROMIUM)('the console’s lists', () => {
  let world: ConsoleWorld;

  beforeAll(async () => {
    world = await startConsole();
    // One more agent than a page holds (the API's largest page is 100), the last a planner
    // whose name also sorts last (Chat and Performance list agents by name).
    const inputs = Array.from({ length: 100 }, (_, i) => ({
      name: `Operator ${String(i).padStart(3, '0')}`,
      role: 'MASTER_OPERATOR',
    }));
    const made = await world.server.gql(
      `mutation ($inputs: [CreateAgentInput!]!) { createAgents(inputs: $inputs) { id } }`,
      { inputs },
    );
    expect(made.errors).toBeUndefined();
    const last = await world.server.gql(
      `mutation { createAgent(input: { name: "Zoe, late planner", role: CHIEF_OF_STAFF }) { id } }`,
    );
    expect(last.errors).toBeUndefined();
  }, 180_000);
  afterAll(() => world?.stop());

  // The README promises "every agent": the 101st was silently left out (walk of 2026-12-07).
  it('shows every agent of an organisation larger than one page', async () => {
    const page = await world.signedIn(world.server.adminKey);
    const late = page.getByRole('link', { name: LATE, exact: true });
    await page.getByRole('link', { name: 'Operator 000', exact: true }).waitFor();
    expect(await late.count()).toBe(0);
    await page.getByRole('button', { name: 'Show more agents' }).click();
    await late.waitFor();
    expect(await page.getByRole('link', { name: /^Operator \d{3}$/ }).count()).toBe(100);
    expect(await page.getByRole('button', { name: 'Show more agents' }).count()).toBe(0);
    await page.getByRole('heading', { name: 'Agents (101)' }).waitFor();
    await page.close();
  });

  // A live event of an agent on a page not read yet put it after the first page, out of order,
  // and its page then came after it.
  it('shows an agent changed on a later page only with its page', async () => {
    const page = await world.signedIn(world.server.adminKey);
    await page.getByRole('link', { name: 'Operator 000', exact: true }).waitFor();
    const idOf = async (text: string) => {
      const found = await world.server.gql<{ agents: { nodes: { id: string }[] } }, unknown>(
        `query ($text: String) { agents(first: 1, filter: { text: $text }) { nodes { id } } }`,
        { text },
      );
      return found.data!.agents.nodes[0]!.id;
    };
    const setStatus = async (id: string, status: string) => {
      const set = await world.server.gql(
        `mutation ($id: ID!, $status: AgentStatus!) {
          setAgentStatus(id: $id, status: $status) { id }
        }`,
        { id, status },
      );
      expect(set.errors).toBeUndefined();
    };
    const late = await idOf(LATE);
    const first = await idOf('Operator 001');
    await setStatus(late, 'PAUSED');
    // Events come in order: once the first page's change shows, the late one's was heard.
    await setStatus(first, 'PAUSED');
    await page.getByRole('button', { name: 'Activate Operator 001' }).waitFor();
    expect(await page.getByRole('link', { name: LATE, exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Show more agents' }).click();
    await page.getByRole('button', { name: `Activate ${LATE}` }).waitFor();
    const names = await page.getByRole('table').getByRole('link').allTextContents();
    expect(names.at(-1)).toBe(LATE);
    expect(names.filter((n) => n === LATE)).toHaveLength(1);
    await setStatus(late, 'IDLE');
    await setStatus(first, 'IDLE');
    await page.close();
  });

  // Chat's agent list read the first 100 agents by name: the 101st could not be chosen.
  it('lets Chat choose an agent past the first page', async () => {
    const page = await world.signedIn(world.server.adminKey, '#/chat');
    const late = page.getByRole('option', { name: LATE, exact: true });
    await page.getByRole('option', { name: 'Operator 099', exact: true }).waitFor({
      state: 'attached',
    });
    expect(await late.count()).toBe(0);
    await page.getByRole('button', { name: 'Show more agents' }).click();
    await late.waitFor({ state: 'attached' });
    expect(await page.getByRole('button', { name: 'Show more agents' }).count()).toBe(0);
    await page.getByLabel('Agent', { exact: true }).selectOption({ label: LATE });
    await page.getByRole('heading', { name: `Conversation with ${LATE}` }).waitFor();
    await page.close();
  });

  // Performance's agents were the first 100 by name, with no way to the others.
  it('shows the figures of agents past the first page on Performance', async () => {
    const page = await world.signedIn(world.server.adminKey, '#/performance');
    const agents = page.getByRole('region', { name: 'Agents' });
    const late = agents.getByRole('cell', { name: LATE, exact: true });
    await agents.getByRole('cell', { name: 'Operator 099', exact: true }).waitFor();
    expect(await late.count()).toBe(0);
    await agents.getByRole('button', { name: 'Show more agents' }).click();
    await late.waitFor();
    expect(await agents.getByRole('button', { name: 'Show more agents' }).count()).toBe(0);
    await agents.getByRole('heading', { name: 'Agents (101)' }).waitFor();
    await page.close();
  });

  // Refresh emptied Performance's agents until the new figures came (review of 2026-12-06).
  it('keeps the agents shown on Performance while Refresh reads their figures again', async () => {
    const page = await world.signedIn(world.server.adminKey, '#/performance');
    const agents = page.getByRole('region', { name: 'Agents' });
    await agents.getByRole('cell', { name: 'Operator 000', exact: true }).waitFor();
    const refresh = page.getByRole('button', { name: 'Refresh' });
    await page.waitForFunction(LOADED);
    // Counts, from here on, every moment the region shows no agent row.
    await page.evaluate(`(() => {
      const region = [...document.querySelectorAll('section')]
        .find((s) => s.querySelector('h2')?.textContent?.startsWith('Agents'));
      window.blanks = 0;
      new MutationObserver(() => {
        if (!region.querySelector('tbody tr')) window.blanks++;
      }).observe(region, { childList: true, subtree: true });
    })()`);
    await refresh.click();
    await page.waitForFunction(LOADED);
    await agents.getByRole('cell', { name: 'Operator 000', exact: true }).waitFor();
    expect(await page.evaluate('window.blanks')).toBe(0);
    await page.close();
  });

  // A 100-character name without spaces squeezed its row's buttons to "Paus / e".
  it('keeps each button on one line beside the longest name the API allows', async () => {
    const name = 'N'.repeat(LIMITS.name);
    const agents = await world.server.gql<{ agents: { nodes: { id: string }[] } }, unknown>(
      `{ agents(first: 1) { nodes { id } } }`,
    );
    const renamed = await world.server.gql(
      `mutation ($id: ID!, $name: String!) { updateAgent(id: $id, input: { name: $name }) { id } }`,
      { id: agents.data!.agents.nodes[0]!.id, name },
    );
    expect(renamed.errors).toBeUndefined();
    const page = await world.signedIn(world.server.adminKey);
    const pause = page.getByRole('button', { name: `Pause ${name}` });
    await pause.waitFor();
    // Lines of the button's text: more than one when a word was broken.
    const lines = await page.evaluate(LINES_OF(`Pause ${name}`));
    expect(lines).toBe(1);
    await page.close();
  });

  it('logged no error in the browser', () => {
    expect(world.errors).toEqual([]);
  });
});

const LATE = 'Zoe, late planner';

/** No "Loading…" left on the page (a function: the console's CSP refuses strings to eval). */
const LOADED = () =>
  !(
    globalThis as unknown as { document: { body: { textContent: string } } }
  ).document.body.textContent.includes('Loading…');

/** Lines of the text of the button so named, in the page (plain JS: no DOM types here). */
const LINES_OF = (label: string) => `(() => {
  const range = document.createRange();
  range.selectNodeContents(document.querySelector('button[aria-label="${label}"]'));
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
})()`;

if (!CHROMIUM) console.warn(`[console] skipped: ${NO_CHROMIUM}`);
