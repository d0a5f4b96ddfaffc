import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTask } from '../src/agents/plan.js';
import { loadConfig } from '../src/config/config.js';
import { AgentRole, AgentStatus, type Agent } from '../src/domain/agent.js';
import { NOT_IN_NAMES } from '../src/domain/validate.js';
import type { Task } from '../src/domain/task.js';
import { createChatModel } from '../src/llm/models.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';

/**
 * Names refuse control and text-direction characters (src/domain/validate.ts), but a Chief of
 * Staff's plan wrote its steps' titles and capabilities as the model sent them: a U+202E from
 * the model (or a task's text it echoed) made one step pass for another, and a spawned agent
 * named after such a capability held a name importOrganisation refuses.
 */
const now = new Date(0).toISOString();
const chief: Agent = {
  id: 'c',
  tenantId: 't',
  name: 'Chief',
  description: null,
  role: AgentRole.CHIEF_OF_STAFF,
  status: AgentStatus.IDLE,
  active: true,
  model: null,
  systemPrompt: null,
  version: 1,
  createdAt: now,
  updatedAt: now,
};

describe("a Chief of Staff's plan", () => {
  let scripted: ScriptedOpenAI;
  beforeAll(async () => {
    scripted = await startScriptedOpenAI(() => ({
      json: {
        steps: [
          {
            key: 'r',
            title: 'Pay\tthe \u202Eeciovni\u202C\n',
            instructions: 'Do r',
            capability: 'research\u0007',
            dependsOn: [],
            condition: null,
            output: 'Notes',
          },
        ],
      },
    }));
  });
  afterAll(() => scripted.close());

  it('names its steps and capabilities without control or text-direction characters', async () => {
    const llm = loadConfig({
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: scripted.baseURL,
      LLM_MODEL: 'm',
    }).llm;
    const task = { id: 'root', tenantId: 't', title: 'Pay', priority: 'MEDIUM' } as Task;
    const { steps, unknownCapabilities } = await planTask(
      createChatModel({ purpose: 'planning' }, llm),
      chief,
      task,
      [],
      [],
    );
    expect(steps[0]!.title).toBe('Pay the eciovni');
    expect(steps[0]!.capability).toBe('research');
    expect(unknownCapabilities).toEqual(['research']);
    expect(steps[0]!.title).not.toMatch(NOT_IN_NAMES);
  });
});
