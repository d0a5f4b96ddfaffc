import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import { OperationError, type Operation } from './operations.js';
import type { Follow } from './waiting.js';
import type { WorkflowEvents } from './workflow-events.js';

/** What a tool needs besides its input: the request's operations, audit and progress. */
export interface ToolContext {
  run: Operation;
  /** The events of a workflow of the caller's tenant: a waiting tool reads it when it changes. */
  events: (rootId: string) => WorkflowEvents;
  /** Records the call in the tenant's audit trail (operation `mcp.<tool>`). */
  audit(tool: string, outcome: 'SUCCESS' | 'FAILURE', code: string | null, ids: string[]): void;
  /** Longest wait a tool may be asked for (`waitSeconds`), in seconds. */
  maxWaitSeconds: number;
  /** A failure that is not the caller's to read (a defect): logged, answered generically. */
  onUnexpected(err: unknown, tool: string): void;
}

export const STATUS = z.enum([
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

export type Structured = Record<string, unknown>;

/** Registers one tool: zod input and output schemas, MCP annotations, audit and errors. */
export type DefineTool = ReturnType<typeof toolDefiner>;

/**
 * The platform's tools are defined through this: failures come back as tool results with
 * `isError` and `CODE: message` (what GraphQL would answer), so an assistant's model can read
 * and correct them; every call is audited.
 */
export function toolDefiner(server: McpServer, ctx: ToolContext) {
  return <S extends z.ZodRawShape>(
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
