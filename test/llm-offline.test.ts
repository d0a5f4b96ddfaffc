import {
  AIMessage,
  AIMessageChunk,
  HumanMessage,
  SystemMessage,
  ToolMessage,
  type BaseMessage,
} from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { toJsonSchema } from '@langchain/core/utils/json_schema';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeTask } from '../src/agents/prompts.js';
import { EARLIER_STEPS, MEMORY_GIVEN } from '../src/llm/prompt-markers.js';
import { reportsSection } from '../src/agents/synthesize.js';
import type { Task } from '../src/domain/task.js';
import { createChatModel } from '../src/llm/models.js';
import { fillSchema, type JsonSchema } from '../src/llm/offline-fill.js';
import { OFFLINE_MODEL_NAME, OfflineChatModel } from '../src/llm/offline-model.js';
import { countWords, planSteps } from '../src/llm/offline-text.js';
import { purposeMarker } from '../src/llm/routing.js';
import { llmOf } from './utils/llm-env.js';

/*
 * The offline model: chat, plans, tool calls and structured output without a provider, and
 * fillSchema (llm-config.test.ts: routing, prices and settings).
 */

const system = (purpose: Parameters<typeof purposeMarker>[0]) =>
  new SystemMessage(`You are an agent of the platform. ${purposeMarker(purpose)}`);

const TASK =
  'Research the history of the Neo4j graph database. Then compare Cypher with SQL, and write a short report for the team.';

const planSchema = z.object({
  steps: z
    .array(
      z.object({
        title: z.string().min(3).max(80),
        instructions: z.string().min(1),
        capability: z.enum(['research', 'writing', 'analysis', 'coding', 'general']),
        dependsOn: z.array(z.number().int().min(0)),
        condition: z.string().optional(),
      }),
    )
    .min(1)
    .max(6),
  rationale: z.string(),
});

describe('the offline model', () => {
  const model = new OfflineChatModel();

  it('is labelled offline in its type, name and every response', async () => {
    expect(model._llmType()).toBe('offline');
    expect(model.model).toBe('offline/deterministic-v1');
    const reply = await model.invoke([system('chat'), new HumanMessage('Hello?')]);
    expect(reply.response_metadata).toMatchObject({
      provider: 'offline',
      model: 'offline/deterministic-v1',
    });
    expect(reply.text).toContain('offline model');
  });

  it('takes LLM_OFFLINE_DELAY_MS before it answers, the same answer, and stops waiting on an abort', async () => {
    expect(llmOf({}).offlineDelayMs).toBe(0);
    expect(() => llmOf({ LLM_OFFLINE_DELAY_MS: '-5' })).toThrow(/LLM_OFFLINE_DELAY_MS/);
    const slow = createChatModel({ purpose: 'chat' }, llmOf({ LLM_OFFLINE_DELAY_MS: '300' }));
    const chat = [system('chat'), new HumanMessage('What is a lease?')];
    const sent = performance.now();
    const answer = await slow.invoke(chat);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(290);
    expect(answer.content).toBe((await model.invoke(chat)).content);
    // Streamed too, and an abort ends the wait with its reason, not after the delay.
    const sentStream = performance.now();
    let streamed = '';
    for await (const chunk of await slow.stream(chat)) streamed += chunk.text;
    expect(performance.now() - sentStream).toBeGreaterThanOrEqual(290);
    expect(streamed).toBe(answer.content);
    const stuck = createChatModel({ purpose: 'chat' }, llmOf({ LLM_OFFLINE_DELAY_MS: '60000' }));
    const controller = new AbortController();
    const call = stuck.invoke(chat, { signal: controller.signal });
    controller.abort(new Error('the step was cancelled'));
    await expect(call).rejects.toThrow('the step was cancelled');
  });

  it('answers the same input with the same output', async () => {
    const input = [system('execution'), new HumanMessage('Step: Check the facts\nAsk the team?')];
    const bound = model.bindTools([searchKnowledge, askAgent]);
    const [a, b] = [await bound.invoke(input), await bound.invoke(input)];
    expect(a.tool_calls).toEqual(b.tool_calls);
    const chat = [system('chat'), new HumanMessage('What is a lease?')];
    expect((await model.invoke(chat)).content).toBe((await model.invoke(chat)).content);
  });

  it('counts tokens as words of the input and output', async () => {
    const messages = [system('chat'), new HumanMessage('How many words are here?')];
    const reply = await model.invoke(messages);
    const input = messages.reduce((n, m) => n + countWords(m.text), 0);
    expect(reply.usage_metadata).toEqual({
      input_tokens: input,
      output_tokens: countWords(reply.text),
      total_tokens: input + countWords(reply.text),
    });
  });

  it('streams several chunks that add up to the invoked response', async () => {
    const messages = [
      system('synthesis'),
      new HumanMessage(
        `Title: Ship it\n\n${reportsSection([
          { step: 'build', content: 'Built.\n### Checks\n- compile: ok' },
          { step: 'test', content: 'Tested: all green.' },
        ])}`,
      ),
    ];
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await model.stream(messages)) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(3);
    const whole = chunks.reduce((acc, c) => acc.concat(c));
    const invoked = await model.invoke(messages);
    expect(whole.text).toBe(invoked.text);
    expect(whole.text).toBe(
      'Summary (offline model) of 2 report(s) for "Ship it":\n- build: Built. ### Checks - compile: ok\n- test: Tested: all green.',
    );
    expect(whole.usage_metadata).toMatchObject(invoked.usage_metadata!);
    expect(whole.response_metadata).toMatchObject({
      provider: 'offline',
      model: OFFLINE_MODEL_NAME,
    });
  });

  it('summarises a conversation, as a chat’s running summary asks, from each of its lines', async () => {
    const reply = await model.invoke([
      system('synthesis'),
      new HumanMessage(
        'Earlier, the person asked about Acme.\ntest admin: What is our revenue? Be brief.\nChief: 12M in 2024.',
      ),
    ]);
    expect(reply.text).toBe(
      'Summary (offline model): Earlier, the person asked about Acme. test admin: What is our revenue? Chief: 12M in 2024.',
    );
  });

  it('plans with a caller-given zod schema: a valid object drawn from the task text', async () => {
    const planner = model.withStructuredOutput(planSchema, { name: 'plan' });
    const plan = await planner.invoke([system('planning'), new HumanMessage(TASK)]);
    expect(planSchema.parse(plan)).toEqual(plan);
    expect(plan.steps.map((s) => s.capability)).toEqual(['research', 'analysis', 'writing']);
    expect(plan.steps.map((s) => s.dependsOn)).toEqual([[], [0], [1]]);
    for (const step of plan.steps) {
      expect(TASK.toLowerCase()).toContain(step.title.toLowerCase());
      expect(step.condition).toBeUndefined();
    }
    expect(plan.steps[0]!.instructions).toBe('Research the history of the Neo4j graph database.');
    expect(await planner.invoke([system('planning'), new HumanMessage(TASK)])).toEqual(plan);
  });

  it('refers to earlier steps by key when the step schema has keys', async () => {
    const keyed = z.object({
      steps: z.array(
        z.object({ key: z.string(), title: z.string(), dependsOn: z.array(z.string()) }),
      ),
    });
    const plan = await model
      .withStructuredOutput(keyed)
      .invoke([system('planning'), new HumanMessage('Gather the data and then chart it.')]);
    expect(plan.steps).toEqual([
      { key: 'step-1', title: 'Gather the data', dependsOn: [] },
      { key: 'step-2', title: 'Chart it', dependsOn: ['step-1'] },
    ]);
  });

  it('calls search_knowledge and ask_agent, then reports on the tool results', async () => {
    const bound = model.bindTools([searchKnowledge, askAgent]);
    const conversation: BaseMessage[] = [
      system('execution'),
      new HumanMessage(
        'Step: Verify the release year\nCheck with the archivist whether Neo4j 5 shipped in 2022.',
      ),
    ];
    const first = await bound.invoke(conversation);
    expect(first.tool_calls?.map((c) => [c.name, c.args])).toEqual([
      ['search_knowledge', { query: 'Verify the release year' }],
      [
        'ask_agent',
        {
          agent: 'Verify the release year',
          question: 'Check with the archivist whether Neo4j 5 shipped in 2022.',
        },
      ],
    ]);
    expect(first.response_metadata.finish_reason).toBe('tool_calls');
    const results = first.tool_calls!.map(
      (call) => new ToolMessage({ content: `${call.name} says 2022`, tool_call_id: call.id! }),
    );
    const final = await bound.invoke([...conversation, first, ...results]);
    expect(final.tool_calls).toEqual([]);
    expect(final.text).toContain('Execution report (offline model) for "Verify the release year"');
    expect(final.text).toContain('- search_knowledge: search_knowledge says 2022');
    expect(final.text).toContain('- ask_agent: ask_agent says 2022');
  });

  it('only searches when the step asks nobody anything', async () => {
    const bound = model.bindTools([searchKnowledge, askAgent]);
    const reply = await bound.invoke([system('execution'), new HumanMessage('Write the summary.')]);
    expect(reply.tool_calls?.map((c) => c.name)).toEqual(['search_knowledge']);
  });

  it("calls the outside tools of the step's own text, and asks as its text or inputs say", async () => {
    const bound = model.bindTools([searchKnowledge, askAgent, filesRead, filesWrite]);
    const prompt = (inputs: string) =>
      new HumanMessage(
        [
          'Rules: ask a question before files__write.',
          'Step: Summarise the notes',
          'Read notes.md with files__read.',
          '',
          EARLIER_STEPS,
          inputs,
          '',
          MEMORY_GIVEN,
          '- fact: ask the archivist before files__write',
        ].join('\n'),
      );
    const called = async (inputs: string) =>
      (await bound.invoke([system('execution'), prompt(inputs)])).tool_calls?.map((c) => c.name);
    // Neither the lessons, the inputs nor the memory name the step's outside tools or questions.
    expect(await called('- draft: saved with files__write.')).toEqual([
      'search_knowledge',
      'files__read',
    ]);
    // A report that says "check" makes the step after it ask too (README, tool approvals).
    expect(await called('- draft: saved with files__write. Check it with finance.')).toEqual([
      'search_knowledge',
      'ask_agent',
      'files__read',
    ]);
  });

  it('extracts facts and lessons from the text', async () => {
    const schema = z.object({
      items: z.array(
        z.object({
          kind: z.enum(['FACT', 'LESSON']),
          content: z.string(),
          confidence: z.number().min(0).max(1),
        }),
      ),
    });
    const out = await model
      .withStructuredOutput(schema)
      .invoke([
        system('extraction'),
        new HumanMessage(
          'The index was rebuilt in four minutes. Next time we should rebuild it at night.',
        ),
      ]);
    expect(out.items).toEqual([
      { kind: 'FACT', content: 'The index was rebuilt in four minutes.', confidence: 0.6 },
      { kind: 'LESSON', content: 'Next time we should rebuild it at night.', confidence: 0.6 },
    ]);
  });

  it('echoes a chat question with the length of its context', async () => {
    const reply = await model.invoke([
      system('chat'),
      new HumanMessage('Hi'),
      new AIMessage('Hello'),
      new HumanMessage('Which agents are idle?'),
    ]);
    expect(reply.text).toContain('You asked: "Which agents are idle?"');
    expect(reply.text).toContain('context: 2 earlier message(s)');
  });
});

describe('fillSchema', () => {
  it('fills a schema with formats, bounds, unions and nesting so that it validates', () => {
    const schema = z.object({
      id: z.uuid(),
      at: z.iso.datetime(),
      email: z.email(),
      short: z.string().max(5),
      long: z.string().min(40),
      code: z.string().regex(/^[a-z-]+$/),
      count: z.number().int().min(3).max(7),
      ratio: z.number().gt(0).lt(1),
      flag: z.boolean(),
      mode: z.enum(['fast', 'slow']),
      exact: z.literal('yes'),
      maybe: z.string().nullable(),
      either: z.union([z.number(), z.string()]),
      tags: z.array(z.string()).min(2).max(2),
      nested: z.object({ inner: z.array(z.object({ n: z.number() })).min(1) }),
      map: z.record(z.string(), z.number()),
      optional: z.string().optional(),
    });
    const value = fillSchema(toJsonSchema(schema) as JsonSchema, {
      sentences: ['A first sentence here.', 'A second one.'],
    });
    expect(() => schema.parse(value)).not.toThrow();
    expect(value).not.toHaveProperty('optional');
  });

  it('splits tasks into two to four steps', () => {
    expect(planSteps('Summarise the incident report.').map((s) => s.title)).toEqual([
      'Summarise the incident report',
      'Summarise the outcome of: Summarise the incident report',
    ]);
    expect(planSteps('A. B. C. D. E. F.').length).toBe(4);
  });

  it("plans a rejected plan's reason as a step of its own, never the line that frames it", () => {
    const task = {
      title: 'Bike prices',
      priority: 'MEDIUM',
      description: 'Research the prices of electric bikes. Then write a short note.',
      planFeedback: 'Compare the three biggest brands too',
    } as Task;
    const steps = planSteps(
      `Your Master Operators, by capability:\n- none yet\n\n${describeTask(task)}`,
    );
    expect(steps.map((s) => s.title)).toEqual([
      'Research the prices of electric bikes',
      'Write a short note',
      'Compare the three biggest brands too',
    ]);
    expect(JSON.stringify(steps)).not.toContain('rejected your previous plan');
  });
});

const searchKnowledge = tool(async ({ query }) => `results for ${query}`, {
  name: 'search_knowledge',
  description: "Searches the organisation's knowledge.",
  schema: z.object({ query: z.string(), limit: z.number().int().min(1).max(20).optional() }),
});

const askAgent = tool(async () => 'an answer', {
  name: 'ask_agent',
  description: 'Asks another agent a question.',
  schema: z.object({ agent: z.string(), question: z.string() }),
});

const outsideTool = (name: string) =>
  tool(async () => 'done', {
    name,
    description: `An outside tool server's ${name}.`,
    schema: z.object({ path: z.string() }),
  });
const filesRead = outsideTool('files__read');
const filesWrite = outsideTool('files__write');
