import { TOPICS, type StepTokenEvent } from '../subscriptions/topics.js';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChatRequest } from './utils/openai-server.js';
import { metricNow } from './utils/prom-text.js';
import { assertOpenAIStrictSchema, assertProviderRequest } from './utils/strict-schema.js';
import { DEFAULT_MAX_TOKENS } from '../src/llm/config.js';
import {
  USAGE,
  usageOf,
  costOf,
  SYNTHESIS,
  ANSWER,
  QUESTION,
  report,
  INVALID_PLAN,
  text,
  purposeOf,
  stepOf,
  hasToolResults,
  stopRunning,
  setup,
  waitsForWorkflows,
  submit,
  count,
  planningRequests,
} from './utils/agents-openai-fixtures.js';

// The agent loop of test/agents.int.test.ts, but on the real @langchain/openai ChatOpenAI client
// against the scripted loopback server: planning (json_schema structured output), execution
// with tool calls (createAgent), the answering agent of ask_agent, extraction and synthesis.
// (The scripted model's answers and the tenant: test/utils/agents-openai-fixtures.ts.)

afterEach(stopRunning);

describe('the agents, on ChatOpenAI against a scripted OpenAI server', waitsForWorkflows, () => {
  it('plans, executes with tool calls, asks, learns and synthesises, with exact totals', async () => {
    const { server, scripted } = await setup();
    const tokens = server.pubsub.subscribe(TOPICS.stepToken);
    const { root, tasks, byKey, rootId, details } = await submit(server, 'COMPLETED', 12);

    expect(root.status).toBe('COMPLETED');
    // The real client streamed each step's model from the server; the tokens were published.
    const first = (await tokens.next()).value as StepTokenEvent;
    await tokens.return?.();
    expect(first).toMatchObject({ tenantId: server.tenantId });
    expect(first.token.length).toBeGreaterThan(0);
    expect(scripted.requests.every((r) => (r as { stream?: boolean }).stream === true)).toBe(true);
    expect(root.result).toBe(SYNTHESIS);
    expect(tasks.map((t) => [t.key ?? 'root', t.status]).sort()).toEqual([
      ['research', 'COMPLETED'],
      ['root', 'COMPLETED'],
      ['synthesis', 'COMPLETED'],
      ['write', 'COMPLETED'],
    ]);
    expect(byKey.research!.result).toBe(report('Research the market'));
    expect(byKey.write!.result).toBe(report('Write the brief'));
    expect(byKey.synthesis!.result).toBe(SYNTHESIS);

    // In order: research, then write, then the synthesis (one run each, no retries).
    const only = (key: string) => {
      const runs = byKey[key]!.runs;
      expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED']);
      return runs[0]!;
    };
    const [research, write, synthesis] = ['research', 'write', 'synthesis'].map(only);
    const t = (iso: unknown) => new Date(iso as string).getTime();
    expect(t(research!.endedAt)).toBeLessThanOrEqual(t(write!.startedAt));
    expect(t(write!.endedAt)).toBeLessThanOrEqual(t(synthesis!.startedAt));

    // What the execution model was sent: the operator's tools, then their results.
    const execution = scripted.requests.filter((r) => purposeOf(r) === 'execution');
    expect(execution).toHaveLength(4);
    const tools = execution[0]!.tools?.map((x) => x.function.name) ?? [];
    expect(tools).toEqual(
      expect.arrayContaining([
        'search_knowledge',
        'record_knowledge',
        'read_dependency_outputs',
        'ask_agent',
        'report_progress',
      ]),
    );
    const researchFinal = execution.find(
      (r) => stepOf(r) === 'Research the market' && hasToolResults(r),
    )!;
    const toolResults = researchFinal.messages.filter((m) => m.role === 'tool').map(text);
    expect(toolResults).toContain(`Analyst answers: ${ANSWER}`);
    // Planning and extraction used json_schema structured output.
    expect(planningRequests(scripted)[0]!.response_format?.type).toBe('json_schema');
    const extraction = scripted.requests.filter((r) => purposeOf(r) === 'extraction');
    expect(extraction.map((r) => r.response_format?.type)).toEqual(['json_schema', 'json_schema']);
    // Every body as a real provider takes it: strict schemas, the purpose's token limit, usage
    // asked for when streamed; the operator's own tools strict-valid too, so a model that
    // sends null for an argument it leaves out (as strict models do) is not refused.
    for (const req of scripted.requests) {
      assertProviderRequest(req, DEFAULT_MAX_TOKENS[purposeOf(req)!]);
      for (const { function: fn } of req.tools ?? []) {
        assertOpenAIStrictSchema(fn.parameters, `tool ${fn.name}`);
      }
    }

    // The question and its answer, between the Researcher and the Analyst.
    expect(
      await count(
        server,
        `MATCH (:Agent {name: 'Researcher'})-[:SENT]->(q:Message {kind: 'QUESTION', tenantId: $tenantId, content: $q})-[:TO]->(:Agent {name: 'Analyst'}),
               (:Agent {name: 'Analyst'})-[:SENT]->(a:Message {kind: 'ANSWER', tenantId: $tenantId, content: $a})-[:TO]->(:Agent {name: 'Researcher'})
         RETURN count(*) AS n`,
        { q: QUESTION, a: ANSWER },
      ),
    ).toBe(1);
    // Knowledge with provenance, one item per executed step.
    expect(
      await count(
        server,
        `MATCH (k:Knowledge {tenantId: $tenantId, kind: 'FACT'})-[:LEARNED_FROM]->(:Run)-[:OF]->(s:Task)-[:SUBTASK_OF]->(:Task {id: $rootId}),
               (k)-[:LEARNED_FROM]->(s), (k)-[:CONTRIBUTED_BY]->(:Agent)
         RETURN count(DISTINCT k) AS n`,
        { rootId },
      ),
    ).toBe(2);

    // Exact totals: 12 calls. Planning 1; research: execution (tools) + chat + execution
    // (report) + extraction + judge = 5; write: execution x2 + extraction + judge = 4;
    // synthesis + judge = 2.
    expect(scripted.requests).toHaveLength(12);
    const usage = (calls: number) => ({ ...usageOf(calls), costUsd: expect.any(Number) });
    const cost = (u: { costUsd: number }, calls: number) =>
      expect(u.costUsd).toBeCloseTo(costOf(calls), 12);
    const tenant = details.data!.llmUsage;
    expect(tenant).toEqual(usage(12));
    cost(tenant, 12);
    expect(costOf(12)).toBeCloseTo(0.00144, 12);
    const perStep = { root: 1, research: 5, write: 4, synthesis: 2 };
    for (const [key, calls] of Object.entries(perStep)) {
      const task = byKey[key]!;
      expect(task.llmUsage, key).toEqual(usage(calls));
      cost(task.llmUsage, calls);
      expect(task.runs).toHaveLength(1);
      expect(task.runs[0]!.llmUsage, key).toEqual(usage(calls));
      cost(task.runs[0]!.llmUsage, calls);
    }
    expect(
      await count(
        server,
        `MATCH (:Run {tenantId: $tenantId})-[:CALLED]->(c:LLMCall {provider: 'compatible', model: 'gpt-4o-mini', priced: true})
         WHERE c.error IS NULL RETURN count(c) AS n`,
      ),
    ).toBe(12);
  });

  it('repairs an invalid plan with a repair prompt, then completes', async () => {
    let plans = 0;
    const { server, scripted } = await setup((_req, purpose) =>
      purpose === 'planning' && plans++ === 0 ? { json: INVALID_PLAN, usage: USAGE } : undefined,
    );
    const { root, tasks } = await submit(server, 'COMPLETED');
    expect(root.status).toBe('COMPLETED');
    expect(root.result).toBe(SYNTHESIS);
    expect(tasks.map((t) => t.key).sort()).toEqual([null, 'research', 'synthesis', 'write']);

    const planning = planningRequests(scripted);
    expect(planning).toHaveLength(2);
    const last = (r: ChatRequest) => text(r.messages.at(-1)!);
    expect(last(planning[0]!)).not.toContain('Your plan cannot be used');
    expect(last(planning[1]!)).toContain('Your plan cannot be used');
    expect(last(planning[1]!)).toContain('depends on "nope"');
  });

  it('fails the task after two repairs and writes no subtasks', async () => {
    const { server, scripted } = await setup((_req, purpose) =>
      purpose === 'planning' ? { json: INVALID_PLAN, usage: USAGE } : undefined,
    );
    const { root, rootId, tasks } = await submit(server, 'FAILED');
    expect(root.status).toBe('FAILED');
    expect(root.error).toContain('still invalid after 2 repairs');
    expect(root.error).toContain('depends on "nope"');
    expect(root.runs.map((r) => r.status)).toEqual(['FAILED']); // permanent: no retry
    expect(tasks).toHaveLength(1);
    expect(planningRequests(scripted)).toHaveLength(3);
    expect(scripted.requests).toHaveLength(3);
    expect(
      await count(
        server,
        `MATCH (s:Task)-[:SUBTASK_OF]->(:Task {id: $rootId}) RETURN count(s) AS n`,
        { rootId },
      ),
    ).toBe(0);
  });

  it.each([
    [500, /will retry\): 500 /],
    [429, /will retry\): 429 /],
  ])('retries a step whose first execution call gets HTTP %i', async (status, message) => {
    const errorClass = status === 429 ? 'rate_limit' : 'server';
    const before = {
      errors: await metricNow('model_errors_total', { class: errorClass }),
      retries: await metricNow('engine_retries_total'),
      retrying: await metricNow('engine_step_duration_seconds_count', { outcome: 'retrying' }),
    };
    let failed = false;
    const { server, scripted } = await setup((req, purpose) => {
      if (purpose !== 'execution' || stepOf(req) !== 'Research the market' || failed)
        return undefined;
      failed = true;
      return { status };
    });
    const { root, byKey, details } = await submit(server, 'COMPLETED', 13);
    expect(root.status).toBe('COMPLETED');
    expect(root.result).toBe(SYNTHESIS);
    const research = byKey.research!;
    expect(research.status).toBe('COMPLETED');
    expect(research.runs.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'FAILED'],
      [2, 'SUCCEEDED'],
    ]);
    expect(research.runs[0]!.error).toMatch(message);
    expect(research.runs[1]!.error).toBeNull();
    // The failed call is recorded with its error and no tokens; the retry made 5 calls.
    expect(research.runs[0]!.llmUsage).toMatchObject({ calls: 1, totalTokens: 0, costUsd: 0 });
    expect(research.runs[1]!.llmUsage).toMatchObject(usageOf(5));
    // Each failure was one request: the client itself did not retry.
    expect(
      scripted.requests.filter(
        (r) =>
          purposeOf(r) === 'execution' && stepOf(r) === 'Research the market' && !hasToolResults(r),
      ),
    ).toHaveLength(2);
    expect(byKey.write!.runs.map((r) => r.status)).toEqual(['SUCCEEDED']);
    // The metrics saw the same (issue 17): one failed model call of its class, one retry.
    expect((await metricNow('model_errors_total', { class: errorClass })) - before.errors).toBe(1);
    expect((await metricNow('engine_retries_total')) - before.retries).toBe(1);
    expect(
      (await metricNow('engine_step_duration_seconds_count', { outcome: 'retrying' })) -
        before.retrying,
    ).toBe(1);
    // The tenant: the failed call and the 12 of a clean run, priced only by the latter.
    expect(details.data!.llmUsage).toMatchObject({ ...usageOf(12), calls: 13 });
    expect(details.data!.llmUsage.costUsd).toBeCloseTo(costOf(12), 12);
  });
});
