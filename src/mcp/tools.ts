import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import { DOCUMENTS, OperationError, type Operation } from './operations.js';
import { followWorkflow, waitForReply, type Follow } from './waiting.js';

/** What a tool needs besides its input: the request's operations, audit and progress. */
export interface ToolContext {
  run: Operation;
  /** Records the call in the tenant's audit trail (operation `mcp.<tool>`). */
  audit(tool: string, outcome: 'SUCCESS' | 'FAILURE', code: string | null, ids: string[]): void;
  /** Longest wait a tool may be asked for (`waitSeconds`), in seconds. */
  maxWaitSeconds: number;
  /** A failure that is not the caller's to read (a defect): logged, answered generically. */
  onUnexpected(err: unknown, tool: string): void;
}

const PRIORITY = z.enum(['LOW', 'MEDIUM', 'HIGH', 'URGENT']);
const STATUS = z.enum([
  'PENDING',
  'READY',
  'IN_PROGRESS',
  'AWAITING_APPROVAL',
  'AWAITING_INPUT',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'SKIPPED',
]);
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
});
const WORKFLOW = {
  taskId: z.string(),
  title: z.string(),
  status: STATUS,
  result: z.string().nullable(),
  error: z.string().nullable(),
  finished: z.boolean().describe('The task ended (COMPLETED, FAILED, CANCELLED or SKIPPED)'),
  steps: z.array(STEP).describe('Every task below the submitted one, in the order planned'),
};

type Structured = Record<string, unknown>;

/**
 * The platform's tools, each with zod input and output schemas and MCP annotations. Failures
 * come back as tool results with `isError` and `CODE: message` (what GraphQL would answer), so
 * an assistant's model can read and correct them; every call is audited.
 */
export function registerTools(server: McpServer, ctx: ToolContext): void {
  const tool = <S extends z.ZodRawShape>(
    name: string,
    config: {
      title: string;
      description: string;
      input: S;
      output: z.ZodRawShape;
      readOnly: boolean;
      destructive?: boolean;
      idempotent?: boolean;
    },
    handler: (
      input: z.infer<z.ZodObject<S>>,
      follow: Follow,
    ) => Promise<{ value: Structured; ids: string[] }>,
  ) =>
    server.registerTool(
      name,
      {
        title: config.title,
        description: config.description,
        inputSchema: config.input,
        outputSchema: config.output,
        annotations: {
          title: config.title,
          readOnlyHint: config.readOnly,
          destructiveHint: config.destructive ?? false,
          idempotentHint: config.idempotent ?? config.readOnly,
          openWorldHint: false,
        },
      },
      (async (input: z.infer<z.ZodObject<S>>, extra: ProgressExtra): Promise<CallToolResult> => {
        try {
          const { value, ids } = await handler(input, followOf(extra));
          ctx.audit(name, 'SUCCESS', null, ids);
          return {
            content: [{ type: 'text', text: JSON.stringify(value) }],
            structuredContent: value,
          };
        } catch (err) {
          // GraphQL's refusals and the request limits (a timeout) say what to do; others not.
          const known = err instanceof OperationError || err instanceof AppError;
          if (!known) ctx.onUnexpected(err, name);
          const code = known ? err.code : 'INTERNAL_SERVER_ERROR';
          const message = known ? err.message : 'The call failed on the server';
          ctx.audit(name, 'FAILURE', code, []);
          return { isError: true, content: [{ type: 'text', text: `${code}: ${message}` }] };
        }
      }) as never,
    );

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
      const view = await followWorkflow(ctx.run, submitTask.id, waitSeconds ?? 0, follow);
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
      value: await followWorkflow(ctx.run, taskId, waitSeconds ?? 0, follow),
      ids: [taskId],
    }),
  );

  const decision = { id: z.string(), status: STATUS };
  tool(
    'approve',
    {
      title: 'Approve',
      description:
        'Approves what waits for a person: a step AWAITING_APPROVAL (what: STEP, the default) or the plan of a submitted task held for approval (what: PLAN), whose steps then run.',
      input: {
        taskId: z.string().min(1),
        what: z.enum(['STEP', 'PLAN']).optional(),
        comment: z.string().max(2_000).optional().describe('Recorded with the decision (STEP)'),
      },
      output: decision,
      readOnly: false,
    },
    async ({ taskId, what, comment }) => {
      const data =
        what === 'PLAN'
          ? (await ctx.run<{ approvePlan: Structured }>(DOCUMENTS.approvePlan, { taskId }))
              .approvePlan
          : (
              await ctx.run<{ approveTask: Structured }>(DOCUMENTS.approveTask, {
                id: taskId,
                comment: comment ?? null,
              })
            ).approveTask;
      return { value: data, ids: [taskId] };
    },
  );

  tool(
    'reject',
    {
      title: 'Reject',
      description:
        'Rejects what waits for a person: a step AWAITING_APPROVAL is skipped (what: STEP), or a held plan is cancelled and planned again with the reason as feedback (what: PLAN).',
      input: {
        taskId: z.string().min(1),
        what: z.enum(['STEP', 'PLAN']).optional(),
        reason: z.string().min(1).max(2_000),
      },
      output: decision,
      readOnly: false,
      destructive: true,
    },
    async ({ taskId, what, reason }) => {
      const data =
        what === 'PLAN'
          ? (await ctx.run<{ rejectPlan: Structured }>(DOCUMENTS.rejectPlan, { taskId, reason }))
              .rejectPlan
          : (
              await ctx.run<{ rejectTask: Structured }>(DOCUMENTS.rejectTask, {
                id: taskId,
                reason,
              })
            ).rejectTask;
      return { value: data, ids: [taskId] };
    },
  );

  tool(
    'search_knowledge',
    {
      title: 'Search knowledge',
      description: "Searches the organisation's recorded knowledge and lessons, best first.",
      input: {
        query: z.string().min(1).max(1_000),
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
        query: z.string().min(1).max(1_000),
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

/** The slice of the SDK's request extra a tool uses to report progress and see aborts. */
interface ProgressExtra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification(n: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; total?: number; message?: string };
  }): Promise<void>;
}

/** Progress notifications, when the client asked for them (a progressToken); else none. */
function followOf(extra: ProgressExtra): Follow {
  const token = extra._meta?.progressToken;
  const report =
    token === undefined
      ? async () => {}
      : async (progress: number, total?: number, message?: string) => {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress, total, message },
          });
        };
  return { report, signal: extra.signal };
}
