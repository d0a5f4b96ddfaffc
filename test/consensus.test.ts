import { HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import type { CandidateAgent } from '../graph/claim.repository.js';
import { AgentRole, AgentStatus, type Agent } from '../src/domain/agent.js';
import { consensusSpec } from '../src/domain/consensus.js';
import { BadInputError } from '../src/domain/errors.js';
import { StepError } from '../src/engine/executor.js';
import { countVotes, normaliseAnswer } from '../src/evolution/consensus/majority.js';
import { chooseVoters } from '../src/evolution/consensus/voters.js';
import { judgeConsensus, voiceLines } from '../src/llm/offline-consensus.js';
import { hintsFor } from '../src/llm/offline-replies.js';

const agent = (name: string, role = AgentRole.MASTER_OPERATOR): Agent => ({
  id: `id-${name}`,
  tenantId: 't',
  name,
  description: null,
  role,
  status: AgentStatus.IDLE,
  active: true,
  model: null,
  systemPrompt: null,
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

const candidate = (a: Agent, caps: Record<string, number>, load = 0): CandidateAgent => ({
  agent: a,
  load,
  capabilities: Object.entries(caps).map(([name, proficiency]) => ({
    name,
    proficiency,
    runs: 0,
    successes: 0,
    avgLatencyMs: 0,
  })),
});

describe('consensus specs', () => {
  it('accepts 2 to 7 voters with MAJORITY or JUDGE, and no consensus at all', () => {
    expect(consensusSpec({ voters: 3, strategy: 'MAJORITY' })).toEqual({
      voters: 3,
      strategy: 'MAJORITY',
    });
    expect(consensusSpec({ voters: 7, strategy: 'JUDGE' })?.voters).toBe(7);
    expect(consensusSpec(null)).toBeNull();
    expect(consensusSpec(undefined)).toBeNull();
  });

  it('refuses voters outside 2..7 and unknown strategies, naming the field and the value', () => {
    expect(() => consensusSpec({ voters: 1, strategy: 'MAJORITY' })).toThrow(
      'consensus.voters must be a whole number between 2 and 7, but got 1',
    );
    expect(() => consensusSpec({ voters: 8, strategy: 'MAJORITY' })).toThrow(BadInputError);
    expect(() => consensusSpec({ voters: 2.5, strategy: 'MAJORITY' })).toThrow('but got 2.5');
    expect(() => consensusSpec({ voters: 3, strategy: 'LOUDEST' })).toThrow(
      'consensus.strategy must be one of MAJORITY, JUDGE, but got LOUDEST',
    );
  });
});

describe('counting votes', () => {
  it('ignores case, punctuation, spacing and the author’s own name, as a whole word', () => {
    expect(normaliseAnswer('Red, green. E', 'E')).toBe('red green');
    expect(normaliseAnswer('The span is 1,280 m.\nAnswered by Ada.', 'Ada')).toBe(
      normaliseAnswer('the span is 1 280 m  answered by BEA', 'Bea'),
    );
  });

  it('chooses the answer most voters gave, the first voter of that group', () => {
    const count = countVotes([
      { content: 'It is 4 feet. Answered by Cy.', author: 'Cy' },
      { content: 'It is 1.2 metres. Answered by Ada.', author: 'Ada' },
      { content: 'It is 1.2 metres. Answered by Bea.', author: 'Bea' },
    ]);
    expect(count).toMatchObject({ votes: [1, 2, 2], chosen: 1, tie: false });
    expect(count.reason).toBe("2 of 3 voters gave the same answer (Ada's first)");
  });

  it('breaks a tie by the answer closest to all the others, and records the tie', () => {
    const count = countVotes([
      { content: 'red', author: 'A' },
      { content: 'red green blue', author: 'B' },
      { content: 'green blue', author: 'C' },
      { content: 'red green blue', author: 'D' },
      { content: 'red', author: 'E' },
    ]);
    // "red" and "red green blue" both have 2 votes; the latter shares more with everyone.
    expect(count).toMatchObject({ votes: [2, 2, 1, 2, 2], chosen: 1, tie: true });
    expect(count.reason).toContain('tie: 2 different answers had 2 of 5 votes each');
    expect(count.reason).toContain("chose B's, the answer closest to all 5 answers");
  });

  it('breaks a tie that similarity cannot break by voter order, the same every time', () => {
    const ballots = [
      { content: 'north', author: 'A' },
      { content: 'south', author: 'B' },
    ];
    const count = countVotes(ballots);
    expect(count).toMatchObject({ votes: [1, 1], chosen: 0, tie: true });
    expect(count.reason).toContain("chose the earliest voter's (A)");
    expect(countVotes(ballots)).toEqual(count);
  });
});

describe('choosing voters', () => {
  const [ada, bea, cy, dan] = ['Ada', 'Bea', 'Cy', 'Dan'].map((n) => agent(n));
  const chief = agent('Chief', AgentRole.CHIEF_OF_STAFF);
  const pool = [
    candidate(chief, { survey: 1 }),
    candidate(dan!, { writing: 1 }),
    candidate(cy!, { survey: 0.9 }),
    candidate(bea!, { survey: 0.5 }, 1),
    candidate(ada!, { survey: 0.5 }),
  ];

  it('takes Master Operators with the capability: the step’s own agent first, then by proficiency, load and name', () => {
    expect(chooseVoters(pool, ['survey'], bea!, 3).map((a) => a.name)).toEqual([
      'Bea',
      'Cy',
      'Ada',
    ]);
    // No capability required: any operator; Bea runs a step already, so she comes last.
    expect(chooseVoters(pool, [], ada!, 7).map((a) => a.name)).toEqual(['Ada', 'Cy', 'Dan', 'Bea']);
  });

  it('votes with as many as there are when fewer than asked, at least two', () => {
    expect(chooseVoters(pool, ['survey'], ada!, 5)).toHaveLength(3);
  });

  it('fails permanently, naming the capability, when fewer than two operators can vote', () => {
    const fail = () => chooseVoters(pool, ['writing'], dan!, 3);
    expect(fail).toThrow(StepError);
    expect(fail).toThrow(
      'consensus needs at least 2 active Master Operators with "writing" to vote, but found 1 (Dan)',
    );
    try {
      fail();
    } catch (err) {
      expect((err as StepError).transient).toBe(false);
    }
  });
});

/** The consensus judge's prompt (consensus/judge.ts) for the viaduct step, with these answers. */
const viaductJudging = (...answers: string[]) =>
  [
    'Consensus: pick the best answer to this step.',
    'Title: Measure the viaduct span',
    'Description: Give the span of the viaduct in imperial units.',
    '',
    ...answers.flatMap((a, i) => [`Answer ${i + 1}:`, a, '']),
  ].join('\n');

describe('the offline model in a vote', () => {
  it('signs an execution report with the agent’s name and the instructions it followed', () => {
    const lines = voiceLines([
      new SystemMessage(
        'You are Ada, a Master Operator of an organisation of AI agents. Carry out the step.\nGive lengths in metric units.\n[[purpose:execution]]',
      ),
      new HumanMessage('Step: Measure the bridge'),
    ]);
    expect(lines).toEqual(['Approach: Give lengths in metric units.', 'Answered by Ada.']);
  });

  it('judges by the step’s key terms in what tells the answers apart, the first on a tie', () => {
    const shared = 'Execution report for "Measure the bridge span".\nStep: measure the bridge span';
    const input = [
      'Consensus: pick the best answer to this step.',
      'Title: Measure the bridge span',
      'Description: Give the span of the bridge in imperial units.',
      '',
      'Answer 1:',
      `${shared}\nApproach: Give lengths in metric units.\nAnswered by Ada.`,
      '',
      'Answer 2:',
      `${shared}\nApproach: Give lengths in imperial units.\nAnswered by Cy.`,
      '',
    ].join('\n');
    const pick = judgeConsensus(input);
    expect(pick.choice).toBe(2);
    expect(pick.feedback).toContain('imperial');
    const same = input.replace('imperial units.\nAnswered', 'metric units.\nAnswered');
    expect(judgeConsensus(same).choice).toBe(1);
  });

  it('judges an answer by its own lines, not by the tool results it quotes', () => {
    // A search that ran a moment later found another workflow's note: it must not tip the pick.
    const input = viaductJudging(
      'Tool results:\n- search_knowledge: viaduct span measured in imperial units\nApproach: Give lengths in metric units.\nAnswered by Bea.',
      'No tool results.\nApproach: Give lengths in imperial units.\nAnswered by Cy.',
    );
    expect(judgeConsensus(input).choice).toBe(2);
  });

  it('leaves out every line of the results a report quotes, a search’s later hits too', () => {
    // search_knowledge answers one hit per line. Only the first shared the report's quote line;
    // the others counted as the answer's own, so a voter whose search ran a moment later and
    // found another workflow's note about the span won the pick (a loaded round of the suite).
    const step = 'Step: Measure the viaduct span\nGive the span of the viaduct in imperial units.';
    const report = (name: string, units: string, found: string) => {
      const system = new SystemMessage(
        `You are ${name}, a Master Operator of an organisation of AI agents.\nGive lengths in ${units} units.\n[[purpose:execution]]`,
      );
      const human = new HumanMessage(step);
      const result = new ToolMessage({
        content: found,
        tool_call_id: 'c1',
        name: 'search_knowledge',
      });
      const hints = hintsFor('execution', step, [system, human, result], [result]);
      return String(hints.fields?.summary);
    };
    const earlier = '- (FACT, confidence 0.9) The bridge survey noted nothing.';
    const later = `${earlier}\n- (SUMMARY, confidence 0.8) Measure the bridge span: the span of the viaduct, measured.`;
    const input = viaductJudging(report('Ada', 'metric', later), report('Cy', 'imperial', earlier));
    expect(judgeConsensus(input).choice).toBe(2);
  });
});
