import { EARLIER_STEPS, PLAN_REJECTED } from '../llm/prompt-markers.js';
import { purposeMarker } from '../llm/routing.js';
import type { Agent } from '../domain/agent.js';
import type { Task } from '../domain/task.js';
import type { StepInput } from '../engine/executor.js';

/** The system prompt of an agent for one purpose; the marker tells the offline model which. */
export function systemPrompt(
  agent: Agent,
  purpose: Parameters<typeof purposeMarker>[0],
  duty: string,
) {
  const own = agent.systemPrompt ? `\n${agent.systemPrompt}` : '';
  return `You are ${agent.name}, a ${agent.role === 'CHIEF_OF_STAFF' ? 'Chief of Staff' : 'Master Operator'} of an organisation of AI agents. ${duty}${own}\n${purposeMarker(purpose)}`;
}

/**
 * The task as the chains show it: `Title:` and `Description:` lines the offline model reads;
 * after a rejected plan, the person's reason as a last line, after PLAN_REJECTED.
 */
export function describeTask(task: Task): string {
  const feedback = task.planFeedback ? `\n${PLAN_REJECTED} ${task.planFeedback}` : '';
  return `Title: ${task.title}\nPriority: ${task.priority}\nDescription: ${task.description ?? task.title}${feedback}`;
}

/** A step as an operator or remote agent reads it: its title, description, then its inputs. */
export function describeStep(task: Task, inputs: Record<string, StepInput>): string {
  const lines = Object.entries(inputs).map(([key, i]) => `- ${key}: ${i.result ?? ''}`);
  return `${task.title}\n${task.description ?? ''}\n\n${EARLIER_STEPS}\n${lines.join('\n') || '- nothing (this is a first step)'}`;
}
