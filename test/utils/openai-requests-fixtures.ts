import type { CandidateAgent } from '../../graph/claim.repository.js';
import { planTask } from '../../src/agents/plan.js';
import { loadConfig } from '../../src/config/config.js';
import type { Agent } from '../../src/domain/agent.js';
import type { Task } from '../../src/domain/task.js';
import { createChatModel } from '../../src/llm/models.js';
import { forgetStructuredModes } from '../../src/llm/structured.js';
import {
  startScriptedOpenAI,
  type ChatMessage,
  type ChatRequest,
  type Reply,
  type ScriptedOpenAI,
} from './openai-server.js';

// The scripted model of the OpenAI request suites (openai-requests-*.test.ts): a chief, an
// operator and a task to plan, plans valid and not, and the client's settings for the server.

/** The scripted server's answer until a test scripts one. */
export const NO_REPLY = () => ({ status: 400, error: 'no reply scripted' });

/** A scripted server answering with what `replies()` gives at the time of each request. */
export function startScripted(replies: () => (req: ChatRequest, n: number) => Reply) {
  forgetStructuredModes();
  return startScriptedOpenAI((req, n) => replies()(req, n));
}

/** The model settings for the scripted server, over `env`. */
export const llmOn = (scripted: ScriptedOpenAI, env: Record<string, string> = {}) =>
  loadConfig({
    LLM_PROVIDER: 'compatible',
    LLM_BASE_URL: scripted.baseURL,
    LLM_MODEL: 'qwen2.5-3b-instruct',
    ...env,
  }).llm;

export const now = new Date(0).toISOString();
export const chief: Agent = {
  id: 'cos',
  tenantId: 't',
  name: 'Chief',
  description: null,
  role: 'CHIEF_OF_STAFF' as Agent['role'],
  status: 'IDLE' as Agent['status'],
  active: true,
  model: null,
  systemPrompt: null,
  version: 1,
  createdAt: now,
  updatedAt: now,
};
export const operators: CandidateAgent[] = [
  {
    agent: { ...chief, id: 'mo', name: 'Researcher', role: 'MASTER_OPERATOR' as Agent['role'] },
    load: 0,
    capabilities: [
      { name: 'research', proficiency: 0.5, runs: 0, successes: 0, avgLatencyMs: 0 },
      { name: 'writing', proficiency: 0.5, runs: 0, successes: 0, avgLatencyMs: 0 },
    ],
  } as CandidateAgent,
];
export const task = {
  id: 'root',
  tenantId: 't',
  title: 'Electric bike market brief',
  description: 'Research the European e-bike market, then write a one-page brief.',
  priority: 'MEDIUM',
} as Task;

export const step = (key: string, dependsOn: string[]) => ({
  key,
  title: `Step ${key}`,
  instructions: `Do ${key}`,
  capability: 'research',
  dependsOn,
  condition: null,
  output: `Notes of ${key}`,
});
export const PLAN = { steps: [step('research', []), step('write', ['research'])] };
export const INVALID_PLAN = { steps: [step('write', ['nope'])] };

/** Plans the task with the scripted server's model. */
export const planOn = (scripted: ScriptedOpenAI, env?: Record<string, string>, log?: Log) =>
  planTask(
    createChatModel({ purpose: 'planning' }, llmOn(scripted, env), undefined, log),
    chief,
    task,
    operators,
    [],
  );

export const text = (m: ChatMessage | undefined): string =>
  typeof m?.content === 'string' ? m.content : (m?.content ?? []).map((p) => p.text ?? '').join('');
export const lastText = (r: ChatRequest) => text(r.messages.at(-1));

export type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
export const recordingLog = () => {
  const lines: string[] = [];
  const log: Log = {
    info: (_o, msg) => void lines.push(msg),
    warn: (_o, msg) => void lines.push(msg),
  };
  return { log, lines };
};
