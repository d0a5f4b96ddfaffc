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
 * a URL, but got \"x\"", or null when they fit (or the method is not one of ours: the SDK
 * answers those). The SDK answers such params with -32603, an internal error, and a dump of
 * zod issues or "Invalid URL": the route refuses them first, as -32602.
 */
export function invalidParams(message: unknown): string | null {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return null;
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
