import { HumanMessage } from '@langchain/core/messages';
import { createAgentRuntime } from '../../src/agents/runtime.js';
import { loadConfig } from '../../src/config.js';
import type { Executor } from '../../src/engine/executor.js';
import { budgetGuards } from '../../src/llm/budget.js';
import type { TestServer } from './server.js';

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
  const runtime = createAgentRuntime({
    uow: server.services.uow,
    llm: loadConfig({ LLM_PROVIDER: 'compatible', LLM_BASE_URL: baseURL, LLM_MODEL: 'gpt-4o-mini' })
      .llm,
    logger: server.logger,
    observe: budgetGuards({
      uow: server.services.uow,
      defaults: loadConfig({}).budgets,
      logger: server.logger,
    }),
  });
  return async (step) => {
    const model = runtime.model({ purpose: 'execution' }, step, 'execution');
    for (let i = 1; i <= calls; i++)
      await model.invoke([new HumanMessage(prompt(i))], { signal: step.signal });
    return { result: 'spent' };
  };
}
