import { purposeMarker } from '../llm/routing.js';
import type { Agent } from '../domain/agent.js';
import type { Task } from '../domain/task.js';

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
 * after a rejected plan (rejectPlan, issue 13), the person's reason as a last line.
 */
export function describeTask(task: Task): string {
  const feedback = task.planFeedback
    ? `\nA person rejected your previous plan for this task, saying: ${task.planFeedback}`
    : '';
  return `Title: ${task.title}\nPriority: ${task.priority}\nDescription: ${task.description ?? task.title}${feedback}`;
}
