import {
  CallToolRequestSchema,
  InitializeRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

/** The requests this server handles, by method: the SDK's own schemas for them. */
const SCHEMAS = {
  initialize: InitializeRequestSchema,
  'tools/list': ListToolsRequestSchema,
  'tools/call': CallToolRequestSchema,
  'resources/list': ListResourcesRequestSchema,
  'resources/templates/list': ListResourceTemplatesRequestSchema,
  'resources/read': ReadResourceRequestSchema,
} as const;

/**
 * Why a JSON-RPC request's params break the MCP schema of its method, e.g. "params.uri must be
 * a URL, but got \"x\"" (a batch: its first request that does), or null when they fit or the
 * method is not one of ours (the SDK answers those). The SDK answers such params with -32603,
 * an internal error, and a dump of zod issues or "Invalid URL": the route refuses them first,
 * as -32602.
 */
export function invalidParams(message: unknown): string | null {
  // A batch: the first of its requests that breaks the schema. One level only: a list in a
  // batch is no request, and following 100,000 nested lists ran out of stack (a 500).
  if (Array.isArray(message)) {
    for (const item of message) {
      const why = Array.isArray(item) ? null : invalidParams(item);
      if (why) return why;
    }
    return null;
  }
  if (typeof message !== 'object' || message === null) return null;
  const { method, params } = message as { method?: unknown; params?: unknown };
  if (typeof method !== 'string' || !Object.hasOwn(SCHEMAS, method)) return null;
  const parsed = SCHEMAS[method as keyof typeof SCHEMAS].safeParse(message);
  if (!parsed.success) {
    return parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
  }
  const uri = (params as { uri?: unknown } | undefined)?.uri;
  if (method === 'resources/read' && typeof uri === 'string' && !URL.canParse(uri)) {
    return `params.uri must be a URL (e.g. task://<id>/result), but got ${JSON.stringify(uri.slice(0, 100))}`;
  }
  return null;
}
