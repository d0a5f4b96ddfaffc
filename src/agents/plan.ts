import { HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { z } from 'zod';
import type { CandidateAgent } from '../../graph/engine.repository.js';
import type { PlannedStep } from '../../graph/agent-work.repository.js';
import type { Agent } from '../domain/agent.js';
import type { Task } from '../domain/task.js';
import { StepError } from '../engine/executor.js';
import { checkCondition } from '../engine/conditions.js';
import { describeTask, systemPrompt } from './prompts.js';

/** What a Chief of Staff's plan must look like (the structured output schema). */
export const PlanSchema = z.object({
  steps: z
    .array(
      z.object({
        key: z.string().describe('A short unique name for the step, letters, digits, "_" or "-"'),
        title: z.string().describe('What the step does, in a few words'),
        instructions: z.string().describe('What the operator should do and produce'),
        capability: z.string().describe('The capability the step needs, e.g. research or writing'),
        dependsOn: z.array(z.string()).describe('Keys of the steps that must finish first'),
        condition: z
          .string()
          .optional()
          .describe('Optional: run only if this holds on earlier outputs'),
        output: z.string().describe('What the step should produce'),
      }),
    )
    .min(1)
    .max(20),
});
export type Plan = z.infer<typeof PlanSchema>;

/** How many times a malformed or invalid plan is sent back with what is wrong. */
export const MAX_REPAIRS = 2;

/**
 * The Chief of Staff plans a task: a structured plan (withStructuredOutput), validated as a DAG
 * of uniquely keyed steps with known dependencies and valid conditions. An invalid plan gets a
 * repair prompt naming the problem, at most MAX_REPAIRS times; then the step fails (permanent).
 */
export async function planTask(
  model: BaseChatModel,
  chief: Agent,
  task: Task,
  operators: CandidateAgent[],
  knowledge: string[],
): Promise<{ steps: PlannedStep[]; unknownCapabilities: string[] }> {
  const team = operators
    .filter((o) => o.agent.role === 'MASTER_OPERATOR')
    .map(
      (o) =>
        `- ${o.agent.name} (load ${o.load}): ${o.capabilities.map((c) => c.name).join(', ') || 'no listed capabilities'}`,
    )
    .join('\n');
  const messages: BaseMessage[] = [
    new SystemMessage(
      systemPrompt(
        chief,
        'planning',
        'Break the task into steps for your Master Operators. Each step needs one capability your team has.',
      ),
    ),
    // The task comes last: everything after "Description:" is the task's own text.
    new HumanMessage(
      `Your Master Operators:\n${team || '- none yet'}\n\nWhat the organisation already knows:\n${knowledge.map((k) => `- ${k}`).join('\n') || '- nothing relevant'}\n\n${describeTask(task)}`,
    ),
  ];
  const structured = model.withStructuredOutput(PlanSchema, { name: 'plan' });
  let problem = '';
  for (let attempt = 0; attempt <= MAX_REPAIRS; attempt++) {
    let plan: Plan | undefined;
    try {
      plan = PlanSchema.parse(await structured.invoke(messages));
    } catch (err) {
      if (err instanceof z.ZodError || err instanceof SyntaxError || isParseError(err)) {
        problem = `the answer was not a valid plan: ${(err as Error).message.split('\n')[0]}`;
      } else {
        throw err; // a transport error: the engine's retry rules apply
      }
    }
    if (plan) {
      problem = validatePlan(plan);
      if (!problem) {
        const known = new Set(operators.flatMap((o) => o.capabilities.map((c) => c.name)));
        const steps = plan.steps.map((s) => ({
          key: s.key,
          title: s.title,
          instructions: `${s.instructions}\nExpected output: ${s.output}`,
          capability: s.capability || null,
          dependsOn: s.dependsOn,
          condition: s.condition?.trim() || null,
        }));
        const unknown = [
          ...new Set(
            steps.map((s) => s.capability).filter((c): c is string => !!c && !known.has(c)),
          ),
        ];
        return { steps, unknownCapabilities: unknown };
      }
    }
    messages.push(
      new HumanMessage(
        `Your plan cannot be used: ${problem}. Send the whole plan again, corrected.`,
      ),
    );
  }
  throw new StepError(`The plan was still invalid after ${MAX_REPAIRS} repairs: ${problem}`, false);
}

function isParseError(err: unknown): boolean {
  return /parse|JSON|schema|validation/i.test((err as Error)?.message ?? '');
}

/** '' when the plan is a usable DAG; otherwise what is wrong, for the repair prompt. */
export function validatePlan(plan: Plan): string {
  const keys = plan.steps.map((s) => s.key);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup) return `the key "${dup}" is used twice`;
  const bad = keys.find((k) => !/^[A-Za-z0-9_-]{1,64}$/.test(k) || k === 'synthesis');
  if (bad !== undefined)
    return `"${bad}" is not a usable key (letters, digits, "_" or "-"; not "synthesis")`;
  for (const s of plan.steps) {
    const missing = s.dependsOn.find((d) => !keys.includes(d));
    if (missing) return `step "${s.key}" depends on "${missing}", which is not a step of the plan`;
    if (s.condition?.trim()) {
      const error = checkCondition(s.condition);
      if (error) return `the condition of step "${s.key}" is not valid: ${error}`;
    }
  }
  // Kahn: repeatedly remove steps whose dependencies are all removed.
  const left = new Map(plan.steps.map((s) => [s.key, s.dependsOn]));
  for (let changed = true; changed;) {
    changed = false;
    for (const [k, deps] of left) {
      if (deps.every((d) => !left.has(d))) {
        left.delete(k);
        changed = true;
      }
    }
  }
  if (left.size > 0) return `steps ${[...left.keys()].join(', ')} depend on each other in a cycle`;
  return '';
}
