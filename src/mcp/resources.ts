import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { DOCUMENTS, OperationError, type Operation } from './operations.js';
import { readWorkflow } from './waiting.js';

const JSON_MIME = 'application/json';

/**
 * A JSON-RPC error sent with its message as is. McpError's own message starts
 * "MCP error <code>: ", which the SDK's server sends and its client adds again.
 */
class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(message);
  }
}

/** A GraphQL refusal as a JSON-RPC error an MCP client shows (its code in the message). */
async function reading<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof OperationError) {
      const code = err.code === 'NOT_FOUND' ? ErrorCode.InvalidParams : ErrorCode.InternalError;
      throw new RpcError(code, `${err.code}: ${err.message}`, { code: err.code });
    }
    throw err;
  }
}

const one = (value: string | string[] | undefined) =>
  (Array.isArray(value) ? value[0] : value) ?? '';

/**
 * Resources, read with the caller's key like the tools: a task's result, a workflow's DAG and
 * the organisation's agents, as JSON.
 */
export function registerResources(server: McpServer, run: Operation): void {
  server.registerResource(
    'task-result',
    new ResourceTemplate('task://{taskId}/result', { list: undefined }),
    {
      title: "A task's result",
      description: 'The status, result and error of a task, by id',
      mimeType: JSON_MIME,
    },
    (uri, { taskId }) =>
      reading(async () => {
        const { task } = await run<{ task: unknown }>(DOCUMENTS.taskResult, { id: one(taskId) });
        return { contents: [{ uri: uri.href, mimeType: JSON_MIME, text: JSON.stringify(task) }] };
      }),
  );
  server.registerResource(
    'workflow',
    new ResourceTemplate('workflow://{taskId}', { list: undefined }),
    {
      title: "A workflow's DAG",
      description: 'A submitted task and every step below it, with their statuses and dependencies',
      mimeType: JSON_MIME,
    },
    (uri, { taskId }) =>
      reading(async () => {
        const view = await readWorkflow(run, one(taskId));
        return { contents: [{ uri: uri.href, mimeType: JSON_MIME, text: JSON.stringify(view) }] };
      }),
  );
  server.registerResource(
    'agents',
    'agents://organisation',
    {
      title: "The organisation's agents",
      description: 'Every agent (up to 100), with its role, status and capabilities',
      mimeType: JSON_MIME,
    },
    (uri) =>
      reading(async () => {
        const { agents } = await run<{ agents: { nodes: unknown[] } }>(DOCUMENTS.agents, {
          first: 100,
          after: null,
        });
        const text = JSON.stringify(agents.nodes);
        return { contents: [{ uri: uri.href, mimeType: JSON_MIME, text }] };
      }),
  );
}
