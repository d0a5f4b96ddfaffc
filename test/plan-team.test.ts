import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CandidateAgent } from '../graph/claim.repository.js';
import { planTask } from '../src/agents/plan.js';
import { delegates, describeTeam } from '../src/agents/team.js';
import { loadConfig } from '../src/config/config.js';
import { AgentRole, AgentStatus, type Agent } from '../src/domain/agent.js';
import type { Task } from '../src/domain/task.js';
import { createChatModel } from '../src/llm/models.js';
import {
  startScriptedOpenAI,
  type ChatRequest,
  type ScriptedOpenAI,
} from './utils/openai-server.js';

/**
 * Issue 15, 1,000 agents: the planning prompt listed every Master Operator on a line of its
 * own, so it grew with the organisation (about 40 KB at 1,000 operators, on every planning
 * call and every repair). A plan names capabilities, not operators: the team is described by
 * capability, and the prompt stays the same size however many operators share them.
 */
const now = new Date(0).toISOString();
const agent = (i: number, role = AgentRole.MASTER_OPERATOR): Agent => ({
  id: `a${i}`,
  tenantId: 't',
  name: `Operator ${i}`,
  description: null,
  role,
  status: AgentStatus.IDLE,
  active: true,
  model: null,
  systemPrompt: null,
  version: 1,
  createdAt: now,
  updatedAt: now,
});
const CAPS = ['research', 'writing', 'analysis'];
const team = (n: number): CandidateAgent[] => [
  { agent: agent(0, AgentRole.CHIEF_OF_STAFF), load: 1, capabilities: [] },
  ...Array.from({ length: n }, (_, i) => ({
    agent: agent(i + 1),
    load: i % 4 === 0 ? 1 : 0,
    capabilities: [
      { name: CAPS[i % CAPS.length]!, proficiency: 0.5, runs: 0, successes: 0, avgLatencyMs: 0 },
    ],
  })),
];

describe('the team a Chief of Staff plans with', () => {
  it('is one line per capability, with counts, load and the least busy by name', () => {
    const text = describeTeam(team(1_000));
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^- research: 334 operators \(Operator \d+, Operator \d+, Operator \d+, 331 more\), 84 steps running$/,
    );
    // The named ones run nothing, while a quarter of the operators run a step.
    for (const name of lines[0]!.match(/Operator \d+/g)!) {
      const i = Number(name.split(' ')[1]) - 1;
      expect(i % 4).not.toBe(0);
    }
    expect(text).toContain('- writing: 333 operators');
    expect(text).toContain('- analysis: 333 operators');
    expect(text).not.toContain('Operator 0'); // the Chief of Staff plans; it is not in the team
  });

  it('delegates a step to the operators it names: the three least busy, then by name', () => {
    const able = team(12).filter((c) => c.capabilities[0]?.name === 'research');
    const chosen = delegates(able).map((c) => c.agent.name);
    expect(chosen).toEqual(['Operator 10', 'Operator 4', 'Operator 7']);
    expect(describeTeam(able)).toContain(`(${chosen.join(', ')}, 1 more)`);
  });

  it('names everyone in a small team and counts operators without a capability', () => {
    const small = team(2);
    small.push({ agent: agent(9), load: 0, capabilities: [] });
    expect(describeTeam(small).split('\n')).toEqual([
      '- no listed capability: 1 operator (Operator 9), 0 steps running',
      '- research: 1 operator (Operator 1), 1 step running',
      '- writing: 1 operator (Operator 2), 0 steps running',
    ]);
  });

  it('lists at most 50 capabilities in full and names or counts the rest', () => {
    const many = Array.from({ length: 300 }, (_, i) => ({
      agent: agent(i + 1),
      load: 0,
      capabilities: [
        {
          name: `cap-${String(i).padStart(3, '0')}`,
          proficiency: 0.5,
          runs: 0,
          successes: 0,
          avgLatencyMs: 0,
        },
      ],
    }));
    const lines = describeTeam(many).split('\n');
    expect(lines).toHaveLength(51);
    expect(lines[50]).toMatch(/^- 250 more capabilities: cap-050, cap-051, .* and 150 others$/);
  });
});

describe('the planning request', () => {
  let scripted: ScriptedOpenAI;
  beforeAll(async () => {
    scripted = await startScriptedOpenAI(() => ({
      json: {
        steps: [
          {
            key: 'r',
            title: 'R',
            instructions: 'Do r',
            capability: 'research',
            dependsOn: [],
            condition: null,
            output: 'Notes',
          },
        ],
      },
    }));
  });
  afterAll(() => scripted.close());

  const promptFor = async (operators: number) => {
    const llm = loadConfig({
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: scripted.baseURL,
      LLM_MODEL: 'm',
    }).llm;
    const task = {
      id: 'root',
      tenantId: 't',
      title: 'Brief',
      description: 'Write a brief.',
      priority: 'MEDIUM',
    } as Task;
    await planTask(
      createChatModel({ purpose: 'planning' }, llm),
      agent(0, AgentRole.CHIEF_OF_STAFF),
      task,
      team(operators),
      [],
    );
    const request = scripted.requests.at(-1) as ChatRequest;
    return request.messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
  };

  it('is the same size for 1,000 operators as for 10 sharing the same capabilities', async () => {
    const ten = await promptFor(10);
    const thousand = await promptFor(1_000);
    expect(thousand).toContain('research: 334 operators');
    expect(thousand.length - ten.length).toBeLessThan(100);
  });
});
