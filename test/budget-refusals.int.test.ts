import { HumanMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../src/config/config.js';
import type { StepContext } from '../src/engine/executor.js';
import { BudgetExceededError } from '../src/llm/budget.js';
import {
  budgetedRuntime,
  budgetedSpender,
  compatibleLlm,
  spenderSuite,
} from './utils/budget-fixtures.js';
import { byKey, startScheduler, waitForWorkflow } from './utils/engine.js';

/*
 * A model call a budget refuses: refused before anything is sent or recorded, in every form a
 * chain makes of the model, and quietly. The refusal was thrown from a LangChain callback,
 * whose manager console.errors a throwing handler's error before rethrowing it: every refused
 * call printed "Error in handler BudgetGuard, handleLLMStart: BudgetExceededError: ...".
 */

const suite = spenderSuite('Refused', 'research', { prompt_tokens: 9, completion_tokens: 1 });
const { gql } = suite;

/** What the process writes to stderr and through console.error/warn while a test runs. */
function stderrSeen(): string[] {
  const seen: string[] = [];
  const text = (args: unknown[]) => args.map(String).join(' ');
  vi.spyOn(console, 'error').mockImplementation((...args) => void seen.push(text(args)));
  vi.spyOn(console, 'warn').mockImplementation((...args) => void seen.push(text(args)));
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk, ...rest) => {
    seen.push(String(chunk));
    return write(chunk, ...(rest as []));
  });
  return seen;
}
afterEach(() => void vi.restoreAllMocks());

const llmCallsOf = async (agentId: string) =>
  (
    await suite.server.graph.read((tx) =>
      tx.run<{ n: number }>({
        cypher: `MATCH (c:LLMCall {tenantId: $tenantId}) WHERE c.agentId = $agentId
          RETURN count(c) AS n`,
        params: { tenantId: suite.server.tenantId, agentId },
      }),
    )
  )[0]!.n;

beforeAll(async () => {
  await gql(
    `mutation($id: ID) { setBudget(scope: AGENT, id: $id, tokens: 0) { budget { tokens } } }`,
    {
      id: suite.agentId,
    },
  );
});

it('writes nothing to stderr when a budget refuses a step’s model call', async () => {
  const plan = await gql<{ createTasks: { id: string }[] }>(`mutation { createTasks(inputs: [
      { key: "root", title: "Held quietly" },
      { key: "spend", title: "Spend", parentKey: "root", requiredCapabilities: ["research"] }
    ]) { id key } }`);
  const rootId = plan.createTasks[0]!.id;
  await gql(`mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, { id: rootId });
  const seen = stderrSeen();
  const scheduler = startScheduler(
    suite.server,
    budgetedSpender(suite.server, suite.scripted.baseURL, 1),
  );
  try {
    const tasks = await waitForWorkflow(suite.server, rootId, (ts) =>
      ['AWAITING_APPROVAL', 'FAILED', 'COMPLETED'].includes(byKey(ts).spend?.status ?? ''),
    );
    expect(byKey(tasks).spend!.status).toBe('AWAITING_APPROVAL');
    expect(byKey(tasks).spend!.error).toMatch(/^BUDGET_EXCEEDED: the agent budget of 0 tokens/);
  } finally {
    await scheduler.stop({ abort: true });
  }
  expect(seen.filter((s) => /BudgetExceeded|Error in handler|BUDGET_EXCEEDED/.test(s))).toEqual([]);
  expect(suite.scripted.requests).toHaveLength(0);
  expect(await llmCallsOf(suite.agentId)).toBe(0);
});

describe.each([
  ['the offline model', () => loadConfig({ LLM_PROVIDER: 'offline' }).llm],
  ['ChatOpenAI', () => compatibleLlm(suite.scripted.baseURL)],
])('a budget’s refusal on %s', (_, llm) => {
  it('refuses every form of the model before anything is sent or recorded, quietly', async () => {
    const task = await gql<{ createTask: { id: string } }>(
      `mutation { createTask(input: { title: "Refused in every form" }) { id } }`,
    );
    const step = {
      task: { id: task.createTask.id, tenantId: suite.server.tenantId },
      agent: { id: suite.agentId, name: 'Refused' },
      run: { id: randomUUID(), attempt: 1, spent: { usd: 0 } },
      inputs: {},
      signal: new AbortController().signal,
    } as unknown as StepContext;
    const model = budgetedRuntime(suite.server, llm()).model(
      { purpose: 'execution' },
      step,
      'execution',
    );
    const lookUp = tool(async () => 'found', {
      name: 'look_up',
      description: 'Looks a thing up.',
      schema: z.object({ what: z.string() }),
    });
    const Answer = z.object({ answer: z.string() });
    const ask = [new HumanMessage('Spend a little.')];
    const forms: [string, () => Promise<unknown>][] = [
      ['invoke', () => model.invoke(ask)],
      [
        'stream',
        async () => {
          for await (const _chunk of await model.stream(ask));
        },
      ],
      ['withConfig', () => model.withConfig({ runName: 'again' }).invoke(ask)],
      ['bindTools', () => model.bindTools!([lookUp]).invoke(ask)],
      [
        'bindTools, streamed',
        async () => {
          for await (const _chunk of await model.bindTools!([lookUp]).stream(ask));
        },
      ],
      ['withStructuredOutput', () => model.withStructuredOutput(Answer).invoke(ask)],
      [
        'withStructuredOutput, includeRaw',
        () => model.withStructuredOutput(Answer, { includeRaw: true }).invoke(ask),
      ],
    ];
    const seen = stderrSeen();
    for (const [form, call] of forms) {
      const err = await call().then(
        () => new Error(`${form} was not refused`),
        (e: unknown) => e,
      );
      expect(err, form).toBeInstanceOf(BudgetExceededError);
    }
    expect(seen.filter((s) => /BudgetExceeded|Error in handler|BUDGET_EXCEEDED/.test(s))).toEqual(
      [],
    );
    expect(suite.scripted.requests).toHaveLength(0);
    expect(await llmCallsOf(suite.agentId)).toBe(0);
  });
});
