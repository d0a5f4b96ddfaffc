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
      new HumanMessage(
        `${describeTask(root)}\n\nReports:\n${reports.map((r) => `- ${r.step}: ${r.content}`).join('\n') || '- no reports'}`,
      ),
    ],
    { signal: step.signal },
  );
  return typeof reply.content === 'string' ? reply.content : JSON.stringify(reply.content);
}
