import { HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import { StructuredOutputError } from '../llm/structured.js';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { z } from 'zod';
import type { CandidateAgent } from '../../graph/claim.repository.js';
import type { PlannedStep } from '../../graph/agent-work.repository.js';
import type { Agent } from '../domain/agent.js';
import type { Task } from '../domain/task.js';
import { oneCycle } from '../domain/cycles.js';
import { StepError } from '../engine/executor.js';
import { checkCondition, conditionKeysProblem } from '../engine/conditions.js';
import { describeTask, systemPrompt } from './prompts.js';
import { cleanName } from '../domain/validate.js';
import { describeTeam } from './team.js';

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
        // Nullish, not optional: strict structured outputs require every property and send
        // null for "none" (issue 10: a plan schema with an unrequired property is refused).
        condition: z
          .string()
          .nullish()
          .describe(
            'Run only if this holds on earlier outputs, e.g. steps["step-1"].output.score > 0.5 (a key with "-" in brackets); null to always run',
          ),
        output: z.string().describe('What the step should produce'),
      }),
    )
    .min(1)
    .max(20),
});
export type Plan = z.infer<typeof PlanSchema>;

/** How many times a malformed or invalid plan is sent back with what is wrong. */
export const MAX_REPAIRS = 2;

/** How much of a rejected answer a repair prompt quotes: its start and its end. */
export const REJECTED_HEAD = 3000;
export const REJECTED_TAIL = 500;

/**
 * The Chief of Staff plans a task: a structured plan (withStructuredOutput), validated as a DAG
 * of uniquely keyed steps with known dependencies and valid conditions. An invalid, malformed
 * or cut-off plan gets a repair prompt that quotes it and names the problem, at most
 * MAX_REPAIRS times; then the step fails (permanent).
 */
export async function planTask(
  model: BaseChatModel,
  chief: Agent,
  task: Task,
  operators: CandidateAgent[],
  knowledge: string[],
  signal?: AbortSignal,
  /** Entity summaries and current facts from memory (issue 11), one line each, bounded. */
  memories: string[] = [],
  /** A skill of the task's family (issue 12, src/domain/skill.ts skillBlock); '' for none. */
  skill = '',
  /** Lessons of the task's family as rules (issue 12, lessonSection); '' for none. */
  rules = '',
): Promise<{ steps: PlannedStep[]; unknownCapabilities: string[] }> {
  const team = describeTeam(operators);
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
      `Your Master Operators, by capability:\n${team || '- none yet'}\n\nWhat the organisation already knows:\n${knowledge.map((k) => `- ${k}`).join('\n') || '- nothing relevant'}\n\n${memorySection(memories)}${skill}${rules}${describeTask(task)}`,
    ),
  ];
  const structured = model.withStructuredOutput(PlanSchema, { name: 'plan' });
  let problem = '';
  for (let attempt = 0; attempt <= MAX_REPAIRS; attempt++) {
    let plan: Plan | undefined;
    let rejected = '';
    try {
      plan = PlanSchema.parse(await structured.invoke(messages, { signal }));
    } catch (err) {
      if (err instanceof StructuredOutputError) {
        problem = err.truncated
          ? `${err.problem} (fewer steps, shorter instructions)`
          : `the answer was not a valid plan: ${err.problem}`;
        rejected = err.raw;
      } else if (err instanceof z.ZodError || err instanceof SyntaxError || isParseError(err)) {
        problem = `the answer was not a valid plan: ${(err as Error).message.split('\n')[0]}`;
      } else {
        throw err; // a transport error: the engine's retry rules apply
      }
    }
    if (plan) {
      rejected = JSON.stringify(plan);
      problem = validatePlan(plan);
      if (!problem) {
        const known = new Set(operators.flatMap((o) => o.capabilities.map((c) => c.name)));
        // Names refuse control and text-direction characters (validate.ts); a model's too.
        const steps = plan.steps.map((s) => ({
          key: s.key,
          title: cleanName(s.title),
          instructions: `${s.instructions}\nExpected output: ${s.output}`,
          capability: cleanName(s.capability) || null,
          dependsOn: s.dependsOn,
          condition: s.condition?.trim() || null,
          output: s.output,
        }));
        const unknown = [
          ...new Set(
            steps.map((s) => s.capability).filter((c): c is string => !!c && !known.has(c)),
          ),
        ];
        return { steps, unknownCapabilities: unknown };
      }
    }
    // The model sees what it sent (issue 10: told only "it is wrong", it cannot fix it).
    const quoted = rejected ? `Your answer was:\n${quote(rejected)}\n\n` : '';
    messages.push(
      new HumanMessage(
        `${quoted}Your plan cannot be used: ${problem}. Send the whole plan again, corrected.`,
      ),
    );
  }
  throw new StepError(`The plan was still invalid after ${MAX_REPAIRS} repairs: ${problem}`, false);
}

/** The memory section of a planning prompt; nothing when memory holds nothing relevant. */
function memorySection(memories: string[]): string {
  return memories.length
    ? `What memory holds about it (entities and current facts):\n${memories.map((m) => `- ${m}`).join('\n')}\n\n`
    : '';
}

/** A rejected answer for a repair prompt: whole when short, else its start and its end. */
export function quote(answer: string): string {
  if (answer.length <= REJECTED_HEAD + REJECTED_TAIL) return answer;
  const cut = answer.length - REJECTED_HEAD - REJECTED_TAIL;
  return `${answer.slice(0, REJECTED_HEAD)}\n[... ${cut} characters left out ...]\n${answer.slice(-REJECTED_TAIL)}`;
}

function isParseError(err: unknown): boolean {
  // An HTTP error is the server refusing the request, never a malformed answer.
  if (typeof (err as { status?: unknown })?.status === 'number') return false;
  return /parse|JSON|schema|validation/i.test((err as Error)?.message ?? '');
}

/** '' when the plan is a usable DAG; otherwise what is wrong, for the repair prompt. */
export function validatePlan(plan: Plan): string {
  return planProblem(plan)?.message ?? '';
}

/** What is wrong with a plan, naming the step and the field (a person's edits are checked so too). */
export interface PlanProblem {
  message: string;
  step: string;
  field: 'key' | 'dependsOn' | 'condition';
}

/** The rules a plan must meet (unique usable keys, known dependencies, valid conditions, a DAG). */
export function planProblem(plan: Plan): PlanProblem | null {
  const keys = plan.steps.map((s) => s.key);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup) return { message: `the key "${dup}" is used twice`, step: dup, field: 'key' };
  const bad = keys.find((k) => !/^[A-Za-z0-9_-]{1,64}$/.test(k) || k === 'synthesis');
  if (bad !== undefined)
    return {
      message: `"${bad}" is not a usable key (letters, digits, "_" or "-"; not "synthesis")`,
      step: bad,
      field: 'key',
    };
  for (const s of plan.steps) {
    const missing = s.dependsOn.find((d) => !keys.includes(d));
    if (missing)
      return {
        message: `step "${s.key}" depends on "${missing}", which is not a step of the plan`,
        step: s.key,
        field: 'dependsOn',
      };
    if (s.condition?.trim()) {
      const error = checkCondition(s.condition);
      if (error)
        return {
          message: `the condition of step "${s.key}" is not valid: ${error}`,
          step: s.key,
          field: 'condition',
        };
      // The engine gives a condition its step's dependencies only: another step reads null.
      const outside = conditionKeysProblem(s.condition, s.dependsOn);
      if (outside)
        return {
          message: `the condition of step "${s.key}" reads a step it does not depend on: ${outside}`,
          step: s.key,
          field: 'condition',
        };
    }
  }
  // The cycle alone: steps that merely wait for it are not on it.
  const cycle = oneCycle(new Map(plan.steps.map((s) => [s.key, s.dependsOn])));
  if (cycle) {
    return {
      message:
        cycle.length === 1
          ? `step "${cycle[0]}" depends on itself`
          : `steps ${cycle.join(', ')} depend on each other in a cycle`,
      step: cycle[0]!,
      field: 'dependsOn',
    };
  }
  return null;
}
