import { HumanMessage } from '@langchain/core/messages';
import { createAgentRuntime, type AgentRuntime } from '../../src/agents/runtime.js';
import { loadConfig } from '../../src/config/config.js';
import type { Executor } from '../../src/engine/executor.js';
import type { LlmConfig } from '../../src/llm/config.js';
import { budgetGuard } from '../../src/llm/budget.js';
import { afterAll, beforeAll, expect } from 'vitest';
import { startScriptedOpenAI, type ScriptedOpenAI } from './openai-server.js';
import { startTestServer, type TestServer } from './server.js';

/**
 * An executor that makes `calls` model calls per attempt to the scripted OpenAI server at
 * `baseURL`, each through the budgets' guard as schedulerFromConfig wires it
 * (src/engine/start.ts); call i sends `prompt(i)` ("call i" by default).
 */
export function budgetedSpender(
  server: TestServer,
  baseURL: string,
  calls: number,
  prompt: (i: number) => string = (i) => `call ${i}`,
): Executor {
  const runtime = budgetedRuntime(server, compatibleLlm(baseURL));
  return async (step) => {
    const model = runtime.model({ purpose: 'execution' }, step, 'execution');
    for (let i = 1; i <= calls; i++)
      await model.invoke([new HumanMessage(prompt(i))], { signal: step.signal });
    return { result: 'spent' };
  };
}

/** The configuration of a model on the scripted OpenAI server at `baseURL`. */
export const compatibleLlm = (baseURL: string): LlmConfig =>
  loadConfig({ LLM_PROVIDER: 'compatible', LLM_BASE_URL: baseURL, LLM_MODEL: 'gpt-4o-mini' }).llm;

/** An agent runtime whose models check the budgets, as schedulerFromConfig wires it. */
export function budgetedRuntime(server: TestServer, llm: LlmConfig): AgentRuntime {
  return createAgentRuntime({
    uow: server.services.uow,
    llm,
    logger: server.logger,
    guard: budgetGuard({
      uow: server.services.uow,
      defaults: loadConfig({}).budgets,
      logger: server.logger,
    }),
  });
}

/** What spenderSuite gives a suite once its beforeAll ran. */
export interface SpenderSuite {
  server: TestServer;
  scripted: ScriptedOpenAI;
  /** The one operator, with the capability asked for. */
  agentId: string;
  /** A GraphQL request that must not fail; answers its data. */
  gql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

/**
 * A suite's test server, a scripted OpenAI server that answers `usage` for every call, and one
 * Master Operator `name` with `capability`: started before the suite's tests, stopped after.
 */
export function spenderSuite(
  name: string,
  capability: string,
  usage: { prompt_tokens: number; completion_tokens: number },
): SpenderSuite {
  const suite = {
    async gql<T>(query: string, variables: Record<string, unknown> = {}) {
      const res = await suite.server.gql(query, variables as never);
      expect(res.errors).toBeUndefined();
      return res.data as T;
    },
  } as SpenderSuite;
  beforeAll(async () => {
    suite.server = await startTestServer();
    suite.scripted = await startScriptedOpenAI(() => ({ content: 'spent', usage }));
    const made = await suite.gql<{ createAgents: { id: string }[] }>(
      `mutation($name: String!, $capability: String!) { createAgents(inputs: [
        { name: $name, role: MASTER_OPERATOR, capabilities: [{ name: $capability }] }
      ]) { id } }`,
      { name, capability },
    );
    suite.agentId = made.createAgents[0]!.id;
  });
  afterAll(async () => {
    await suite.server?.stop();
    await suite.scripted?.close();
  });
  return suite;
}
