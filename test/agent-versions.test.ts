import { randomUUID } from 'node:crypto';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import {
  canaryPoint,
  OPERATOR_TOOLS,
  changesBehaviour,
  withVersion,
  VersionOrigin,
  VersionStatus,
  type AgentVersion,
} from '../src/domain/agent-version.js';
import { AgentRole, AgentStatus, type Agent } from '../src/domain/agent.js';
import { operatorTools } from '../src/agents/tools.js';
import { evolutionEnvSchema, evolutionFromEnv } from '../src/evolution/config.js';
import { ProposalSchema, reflectionPrompt } from '../src/evolution/versions/propose.js';
import { OfflineChatModel } from '../src/llm/offline-model.js';
import { purposeMarker } from '../src/llm/routing.js';
import { checkNodeRules, checkRelationshipRule } from '../src/domain/organisation-rules.js';
import {
  decideCanary,
  incompleteBeta,
  studentTCdf,
  summarise,
  welch,
} from '../src/evolution/versions/stats.js';
import { isVersionProposal, proposeVersion } from '../src/llm/offline-reflection-version.js';
import { imperativeRules } from '../src/llm/offline-rules.js';

// Agent versions' pure parts (issue 12): the canary's hash share, the Welch test that decides
// it, and the offline model's reflection.

describe('the canary share', () => {
  it('sends a share of 0.2 of 400 runs to the candidate within a binomial 99.9% interval', () => {
    const n = 400;
    const share = 0.2;
    const taken = Array.from({ length: n }, () => randomUUID()).filter(
      (id) => canaryPoint(id) < share,
    ).length;
    // Normal approximation of Binomial(400, 0.2): mean 80, sd 8; 99.9% two-sided: z = 3.29.
    const sd = Math.sqrt(n * share * (1 - share));
    expect(taken).toBeGreaterThanOrEqual(Math.floor(n * share - 3.29 * sd));
    expect(taken).toBeLessThanOrEqual(Math.ceil(n * share + 3.29 * sd));
  });

  it('picks the same version for the same run id every time (a retried claim agrees)', () => {
    const id = randomUUID();
    expect(canaryPoint(id)).toBe(canaryPoint(id));
    expect(canaryPoint(id)).toBeGreaterThanOrEqual(0);
    expect(canaryPoint(id)).toBeLessThan(1);
  });
});

describe('the Welch test', () => {
  it("matches Student's t distribution at known points", () => {
    expect(studentTCdf(0, 7)).toBeCloseTo(0.5, 10);
    expect(studentTCdf(2, 10)).toBeCloseTo(0.963306, 5);
    expect(studentTCdf(-2.228, 10)).toBeCloseTo(0.025, 4);
    expect(studentTCdf(1.645, 1e6)).toBeCloseTo(0.95, 3);
    expect(incompleteBeta(0.5, 2, 2)).toBeCloseTo(0.5, 10);
  });

  it('computes t and the Welch–Satterthwaite degrees of freedom', () => {
    const a = summarise([0.9, 0.8, 0.85, 0.95, 0.9]);
    const b = summarise([0.5, 0.6, 0.4, 0.55, 0.5, 0.45]);
    expect(a.mean).toBeCloseTo(0.88, 10);
    const r = welch(a, b);
    const se = Math.sqrt(a.variance / a.n + b.variance / b.n);
    expect(r.t).toBeCloseTo((a.mean - b.mean) / se, 10);
    expect(r.df).toBeGreaterThan(4);
    expect(r.df).toBeLessThan(a.n + b.n - 2 + 1e-9);
    expect(r.pGreater + r.pLess).toBeCloseTo(1, 10);
    expect(r.pGreater).toBeLessThan(0.001);
  });

  it('waits below the minimum sample, however large the difference', () => {
    const v = decideCanary([1, 1, 1], [0, 0, 0, 0, 0], { minRuns: 10, alpha: 0.05 });
    expect(v.decision).toBe('WAIT');
    expect(v.test).toBeNull();
    expect(v.reason).toContain('waiting for 10 evaluated runs on each side');
  });

  it('promotes a better candidate, rolls back a worse one, waits on noise', () => {
    const high = [0.9, 0.85, 0.95, 0.8, 0.9, 0.88, 0.92, 0.86, 0.9, 0.94];
    const low = [0.4, 0.5, 0.45, 0.3, 0.5, 0.42, 0.38, 0.5, 0.44, 0.46, 0.4];
    const o = { minRuns: 10, alpha: 0.05 };
    expect(decideCanary(high, low, o).decision).toBe('PROMOTE');
    expect(decideCanary(low, high, o).decision).toBe('ROLLBACK');
    const noisy = [0.5, 0.9, 0.1, 0.7, 0.3, 0.6, 0.4, 0.8, 0.2, 0.5];
    const same = [0.6, 0.4, 0.5, 0.7, 0.3, 0.5, 0.6, 0.4, 0.5, 0.5];
    const wait = decideCanary(noisy, same, o);
    expect(wait.decision).toBe('WAIT');
    expect(wait.reason).toContain('no significant difference yet');
  });

  it('decides exactly on two constant samples', () => {
    const o = { minRuns: 2, alpha: 0.05 };
    expect(decideCanary([1, 1], [0, 0], o).decision).toBe('PROMOTE');
    expect(decideCanary([0, 0], [1, 1], o).decision).toBe('ROLLBACK');
    expect(decideCanary([1, 1], [1, 1], o).decision).toBe('WAIT');
  });
});

describe('behaviour and versions', () => {
  const live = {
    systemPrompt: 'Be brief.',
    model: null,
    temperature: null,
    tools: [],
    lessonBudget: null,
  };

  it('counts only a changed behaviour field as a change', () => {
    expect(changesBehaviour(live, {})).toBe(false);
    expect(changesBehaviour(live, { systemPrompt: 'Be brief.' })).toBe(false);
    expect(changesBehaviour(live, { systemPrompt: 'Be thorough.' })).toBe(true);
    expect(changesBehaviour(live, { temperature: 0.2 })).toBe(true);
    expect(changesBehaviour(live, { tools: [] })).toBe(false);
    expect(changesBehaviour(live, { tools: ['search_knowledge'] })).toBe(true);
  });

  it("gives a run the agent with its version's behaviour", () => {
    const agent: Agent = {
      id: 'a',
      tenantId: 't',
      name: 'Ada',
      description: null,
      role: AgentRole.MASTER_OPERATOR,
      status: AgentStatus.IDLE,
      active: true,
      model: 'gpt-4o-mini',
      systemPrompt: 'Be brief.',
      version: 3,
      createdAt: '',
      updatedAt: '',
    };
    const candidate: AgentVersion = {
      ...live,
      systemPrompt: 'Be brief.\n- Always state the unit.',
      model: 'gpt-4o',
      temperature: 0.1,
      id: 'v4',
      tenantId: 't',
      agentId: 'a',
      version: 4,
      status: VersionStatus.CANDIDATE,
      origin: VersionOrigin.PLATFORM,
      reason: 'r',
      canaryShare: 0.2,
      parentId: 'v3',
      createdAt: '',
    };
    expect(withVersion(agent, candidate)).toMatchObject({
      name: 'Ada',
      version: 3,
      systemPrompt: 'Be brief.\n- Always state the unit.',
      model: 'gpt-4o',
      temperature: 0.1,
      versionId: 'v4',
      usedVersion: 4,
    });
    expect(withVersion(agent, undefined)).toBe(agent);
  });
});

describe("a version's tools", () => {
  const step = (tools: string[]) =>
    ({ task: { tenantId: 't', id: 'x' }, agent: { id: 'a', tools }, run: { id: 'r' } }) as never;
  const names = (tools: string[]) =>
    operatorTools({} as never, step(tools), 'c', null).map((t) => t.name);

  it('are all of the operator tools when it names none, and only those it names otherwise', () => {
    expect(names([])).toEqual([...OPERATOR_TOOLS]);
    expect(names(['search_knowledge', 'report_progress'])).toEqual([
      'search_knowledge',
      'report_progress',
    ]);
  });
});

describe("the offline model's version proposal", () => {
  const prompt = [
    'Propose: revised instructions for agent Ada (MASTER_OPERATOR).',
    'Current instructions:',
    '<<<',
    'Answer briefly.',
    '>>>',
    '',
    'Run 1: step "Price check", score 0.20 (FAIL), SUCCEEDED',
    'Evaluations:',
    '- PERSON score 0.20',
    '  comment: Wrong again. Always state the unit of every number.',
    '- JUDGE score 0.30',
    '  reason: Cite the source of each figure',
    '  reason: the result misses the expected key terms',
    'Run 2: step "Stock check", score 0.10 (FAIL), SUCCEEDED',
    'Evaluations:',
    '  comment: always state the unit of every number.',
  ].join('\n');

  it('keeps the instructions and appends each imperative rule of the evaluations once', () => {
    expect(isVersionProposal(prompt)).toBe(true);
    expect(isVersionProposal('Judge: something')).toBe(false);
    const { instructions, rationale } = proposeVersion(prompt);
    expect(instructions).toBe(
      'Answer briefly.\n- Always state the unit of every number.\n- Cite the source of each figure.',
    );
    expect(rationale).toContain('added 2 rule(s)');
  });

  const runEvidence = {
    runId: 'r1',
    status: 'SUCCEEDED',
    error: null,
    title: 'Weigh the bikes',
    description: null,
    expectedOutput: null,
    result: '12',
    score: 0.2,
    verdict: 'FAIL',
  };

  it('writes only the rules for an agent that had no instructions, from the real prompt', () => {
    const agent = { name: 'Ada', role: AgentRole.MASTER_OPERATOR } as Agent;
    const evidence = {
      ...runEvidence,
      evaluations: [
        { source: 'PERSON', score: 0.2, reasons: [], comment: 'Always give the weights in kg.' },
      ],
    };
    const { instructions } = proposeVersion(reflectionPrompt(agent, '', [evidence]));
    expect(instructions).toBe('- Always give the weights in kg.');
  });

  it('turns a comment that says what the answer must do into a rule, as lessons do', async () => {
    // Regression: only sentences that began with an imperative verb became rules, while lessons
    // read "The answer must give weights in kg" as "Give weights in kg." (offline-rules.ts).
    const agent = { name: 'Ada', role: AgentRole.MASTER_OPERATOR } as Agent;
    const evaluations = [
      { source: 'PERSON', score: 0.2, reasons: [], comment: 'The answer must give weights in kg' },
      {
        source: 'JUDGE',
        score: 0.3,
        reasons: ['The report should not cite Wikipedia.', 'The delivery date is missing.'],
        comment: null,
      },
    ];
    const evidence = { ...runEvidence, evaluations };
    const proposal = await new OfflineChatModel()
      .withStructuredOutput(ProposalSchema, { name: 'proposal' })
      .invoke([
        new SystemMessage(purposeMarker('reflection')),
        new HumanMessage(reflectionPrompt(agent, 'Answer briefly.', [evidence])),
      ]);
    expect(proposal.instructions).toBe(
      [
        'Answer briefly.',
        '- Give weights in kg.',
        '- Never cite Wikipedia.',
        '- Always include delivery date.',
      ].join('\n'),
    );
  });

  it('finds no rule in statements that are not imperative', () => {
    expect(imperativeRules('The result was wrong. It missed the point.')).toEqual([]);
    expect(imperativeRules('Never guess a figure! Use the 2024 data.')).toEqual([
      'Never guess a figure.',
      'Use the 2024 data.',
    ]);
  });
});

describe('agent versions in an organisation document', () => {
  const at = { $datetime: '2024-05-01T10:20:30Z' };
  const version = (properties: Record<string, unknown>) => ({
    label: 'AgentVersion' as const,
    id: 'v1',
    properties: { version: { $int: 1 }, createdAt: at, ...properties },
  });

  it('imports versions from before statuses, and versions with every field', () => {
    expect(() =>
      checkNodeRules([version({ systemPrompt: 'old', reason: 'created' })]),
    ).not.toThrow();
    expect(() =>
      checkNodeRules([
        version({
          status: 'CANDIDATE',
          origin: 'PLATFORM',
          canaryShare: 0.2,
          temperature: 0.5,
          tools: ['search_knowledge'],
          lessonBudget: { $int: 3 },
          agentId: 'a1',
        }),
      ]),
    ).not.toThrow();
  });

  it('refuses a status or origin that is not one, and USED_VERSION from anything but a Run', () => {
    expect(() => checkNodeRules([version({ status: 'BEST' })])).toThrow(
      /status must be .*CANDIDATE.*but got "BEST"/,
    );
    expect(() => checkNodeRules([version({ origin: 'ROBOT' })])).toThrow(/origin must be/);
    const rel = { type: 'USED_VERSION', from: 'r1', to: 'v1', properties: {} };
    expect(() => checkRelationshipRule(0, rel, 'Run', 'AgentVersion')).not.toThrow();
    expect(() => checkRelationshipRule(0, rel, 'Task', 'AgentVersion')).toThrow(
      /USED_VERSION must go from Run to AgentVersion/,
    );
  });
});

describe('the canary settings', () => {
  it('default to a share of 0.2, 10 runs a side and alpha 0.05, and name a bad value', () => {
    expect(evolutionFromEnv(evolutionEnvSchema.parse({})).canary).toEqual({
      share: 0.2,
      minRuns: 10,
      alpha: 0.05,
    });
    expect(
      evolutionFromEnv(
        evolutionEnvSchema.parse({
          EVOLUTION_CANARY_SHARE: '0.1',
          EVOLUTION_CANARY_MIN_RUNS: '30',
          EVOLUTION_CANARY_ALPHA: '0.01',
        }),
      ).canary,
    ).toEqual({ share: 0.1, minRuns: 30, alpha: 0.01 });
    const bad = evolutionEnvSchema.safeParse({ EVOLUTION_CANARY_SHARE: '0.9' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('must be a number from 0.01 to 0.5');
  });
});
