import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { reportsOfPlan } from '../../graph/agent-work.repository.js';
import type { StepContext } from '../engine/executor.js';
import type { Task } from '../domain/task.js';
import { describeTask, systemPrompt } from './prompts.js';
import type { AgentRuntime } from './runtime.js';

/** The Chief of Staff writes the task's answer from its operators' REPORT messages. */
export async function synthesize(rt: AgentRuntime, step: StepContext, root: Task): Promise<string> {
  const reports = await rt.uow.read((tx) => reportsOfPlan(tx, root.tenantId, root.id));
  const model = rt.model({ purpose: 'synthesis', agentModel: step.agent.model }, step, 'synthesis');
  const reply = await model.invoke(
    [
      new SystemMessage(
        systemPrompt(
          step.agent,
          'synthesis',
          'Write the final answer to the task from the reports of your operators.',
        ),
      ),
      new HumanMessage(`${describeTask(root)}\n\n${reportsSection(reports)}`),
    ],
    { signal: step.signal },
  );
  return typeof reply.content === 'string' ? reply.content : JSON.stringify(reply.content);
}

/**
 * The reports, one block each under a `### Report of step <key>` heading: a report's own lines
 * (`- …` tool results, a model's own `###` headings) are not taken for another report's start.
 */
export function reportsSection(reports: { step: string; content: string }[]): string {
  if (reports.length === 0) return `${REPORTS_HEADING} (0):\nNo reports.`;
  const blocks = reports.map((r) => `${REPORT_MARK}${r.step}\n${r.content.trim()}`);
  return `${REPORTS_HEADING} (${reports.length}):\n\n${blocks.join('\n\n')}`;
}

export const REPORTS_HEADING = 'Reports of the steps';
export const REPORT_MARK = '### Report of step ';
