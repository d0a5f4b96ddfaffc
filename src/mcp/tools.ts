import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { LIMITS } from '../domain/validate.js';
import { registerApprovalTools } from './approvals.js';
import { STATUS, toolDefiner, type Structured, type ToolContext } from './define-tool.js';
import { DOCUMENTS } from './operations.js';
import { followWorkflow, waitForReply } from './waiting.js';

export type { ToolContext } from './define-tool.js';

const PRIORITY = z.enum(['LOW', 'MEDIUM', 'HIGH', 'URGENT']);

const wait = (max: number) =>
  z
    .number()
    .int()
    .min(0)
    .max(max)
    .optional()
    .describe(`Seconds to wait for the task to end (0 to ${max}; default 0: answer at once)`);

const STEP = z.object({
  id: z.string(),
  title: z.string(),
  status: STATUS,
  result: z.string().nullable(),
  error: z.string().nullable(),
  waitingReason: z.string().nullable(),
  parentId: z.string().nullable(),
  dependsOn: z.array(z.string()),
  heldToolCalls: z
    .array(z.object({ callId: z.string(), tool: z.string(), args: z.string() }))
    .describe("Tool calls the step's agent waits on a person for: approve or reject them"),
});
const WORKFLOW = {
  taskId: z.string(),
  title: z.string(),
  status: STATUS,
  result: z.string().nullable(),
  error: z.string().nullable(),
  finished: z.boolean().describe('The task ended (COMPLETED, FAILED, CANCELLED or SKIPPED)'),
  version: z.number().int().describe("The task's writes so far: a later view has a higher one"),
  steps: z.array(STEP).describe('Every task below the submitted one, in the order planned'),
};

/** The platform's tools (approve and reject in approvals.ts), each made by toolDefiner. */
export function registerTools(server: McpServer, ctx: ToolContext): void {
  const tool = toolDefiner(server, ctx);

  tool(
    'submit_task',
    {
      title: 'Submit a task',
      description:
        'Gives a task to the organisation: a Chief of Staff plans it and Master Operators run the steps. Returns its id; with waitSeconds, follows it (progress notifications per step) and returns its result once it ends.',
      input: {
        title: z.string().min(1).max(200).describe('What the task is, in a line'),
        description: z.string().max(20_000).optional().describe('What is wanted, in full'),
        priority: PRIORITY.optional().describe('Default MEDIUM'),
        family: z.string().max(80).optional().describe('What kind of task it is (lessons apply)'),
        planApproval: z.boolean().optional().describe('Hold the plan for approve (what: PLAN)'),
        waitSeconds: wait(ctx.maxWaitSeconds),
      },
      output: WORKFLOW,
      readOnly: false,
    },
    async ({ waitSeconds, ...input }, follow) => {
      const { submitTask } = await ctx.run<{ submitTask: { id: string } }>(DOCUMENTS.submitTask, {
        input,
      });
      const view = await followWorkflow(ctx, submitTask.id, waitSeconds ?? 0, follow);
      return { value: view, ids: [submitTask.id] };
    },
  );

  tool(
    'task_status',
    {
      title: 'Task status',
      description:
        "A submitted task's workflow: its status and result, and every step's status, result and dependencies. With waitSeconds, waits for it to end.",
      input: { taskId: z.string().min(1), waitSeconds: wait(ctx.maxWaitSeconds) },
      output: WORKFLOW,
      readOnly: true,
    },
    async ({ taskId, waitSeconds }, follow) => ({
      value: await followWorkflow(ctx, taskId, waitSeconds ?? 0, follow),
      ids: [taskId],
    }),
  );

  registerApprovalTools(tool, ctx);

  tool(
    'search_knowledge',
    {
      title: 'Search knowledge',
      description: "Searches the organisation's recorded knowledge and lessons, best first.",
      input: {
        query: z.string().min(1).max(LIMITS.search),
        first: z.number().int().min(1).max(100).optional().describe('Default 10'),
      },
      output: {
        hits: z.array(
          z.object({
            score: z.number(),
            id: z.string(),
            kind: z.string(),
            content: z.string(),
            confidence: z.number(),
            tags: z.array(z.string()),
          }),
        ),
      },
      readOnly: true,
    },
    async ({ query, first }) => {
      const { searchKnowledge } = await ctx.run<{
        searchKnowledge: { score: number; knowledge: Structured }[];
      }>(DOCUMENTS.searchKnowledge, { query, first: first ?? 10 });
      return {
        value: { hits: searchKnowledge.map((h) => ({ score: h.score, ...h.knowledge })) },
        ids: [],
      };
    },
  );

  tool(
    'search_memory',
    {
      title: 'Search memory',
      description:
        "Searches the organisation's memory (entities, facts, episodes and knowledge) by words, meaning and graph distance, fused, best first; asOf reads it as it was then.",
      input: {
        query: z.string().min(1).max(LIMITS.search),
        first: z.number().int().min(1).max(50).optional().describe('Default 10'),
        asOf: z.string().datetime().optional().describe('An ISO date-time; now when left out'),
      },
      output: {
        hits: z.array(
          z.object({ kind: z.string(), id: z.string(), text: z.string(), score: z.number() }),
        ),
      },
      readOnly: true,
    },
    async ({ query, first, asOf }) => {
      const { searchMemory } = await ctx.run<{
        searchMemory: { kind: string; id: string; text: string; score: number }[];
      }>(DOCUMENTS.searchMemory, { query, first: first ?? 10, asOf: asOf ?? null });
      return { value: { hits: searchMemory }, ids: [] };
    },
  );

  tool(
    'list_agents',
    {
      title: 'List agents',
      description:
        "The organisation's agents: Chiefs of Staff and Master Operators, their status and capabilities.",
      input: {
        first: z.number().int().min(1).max(100).optional().describe('Default 20'),
        after: z.string().optional().describe('nextCursor of the previous page'),
      },
      output: {
        agents: z.array(
          z.object({
            id: z.string(),
            name: z.string(),
            role: z.string(),
            status: z.string(),
            active: z.boolean(),
            description: z.string().nullable(),
            capabilities: z.array(z.object({ name: z.string(), proficiency: z.number() })),
          }),
        ),
        nextCursor: z.string().nullable(),
      },
      readOnly: true,
    },
    async ({ first, after }) => {
      const { agents } = await ctx.run<{
        agents: { nodes: Structured[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
      }>(DOCUMENTS.agents, { first: first ?? 20, after: after ?? null });
      const nextCursor = agents.pageInfo.hasNextPage ? agents.pageInfo.endCursor : null;
      return { value: { agents: agents.nodes, nextCursor }, ids: [] };
    },
  );

  tool(
    'chat_with_agent',
    {
      title: 'Chat with an agent',
      description:
        'Sends a message to an agent and returns its reply (waits up to waitSeconds, default 60, for it). Pass conversationId to go on with a conversation.',
      input: {
        agentId: z.string().min(1),
        message: z.string().min(1).max(20_000),
        conversationId: z.string().optional(),
        waitSeconds: wait(ctx.maxWaitSeconds),
      },
      output: {
        conversationId: z.string(),
        replyId: z.string(),
        reply: z.string().nullable().describe('Null when it did not come within waitSeconds'),
      },
      readOnly: false,
    },
    async ({ agentId, message, conversationId, waitSeconds }, follow) => {
      const { chat } = await ctx.run<{ chat: { conversationId: string; replyId: string } }>(
        DOCUMENTS.chat,
        { agentId, message, conversationId: conversationId ?? null },
      );
      const reply = await waitForReply(ctx.run, chat.replyId, waitSeconds ?? 60, follow.signal);
      return { value: { ...chat, reply }, ids: [agentId, chat.conversationId] };
    },
  );

  tool(
    'rate_task',
    {
      title: 'Rate a task',
      description:
        "Rates a task's outcome from 0 (useless) to 1 (exactly right): a person's evaluation, which the platform learns from.",
      input: {
        taskId: z.string().min(1),
        score: z.number().min(0).max(1),
        comment: z.string().max(2_000).optional(),
      },
      output: { id: z.string(), score: z.number(), verdict: z.string() },
      readOnly: false,
    },
    async ({ taskId, score, comment }) => {
      const { rateTask } = await ctx.run<{ rateTask: Structured }>(DOCUMENTS.rateTask, {
        taskId,
        score,
        comment: comment ?? null,
      });
      return { value: rateTask, ids: [taskId] };
    },
  );
}
