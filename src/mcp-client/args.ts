import { Validator } from '@langchain/core/utils/json_schema';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/**
 * Why `args` do not fit a tool's JSON Schema input: the argument and what the schema wants
 * (`text: Instance type "number" is invalid. Expected "string".`), or null when they fit or the
 * schema cannot be read. The validator is the one LangChain checks a call with before it runs.
 */
export function argsProblem(schema: Record<string, unknown>, args: unknown): string | null {
  let errors: { instanceLocation: string; keyword: string; error: string }[];
  try {
    const result = new Validator(schema as never, '2019-09', false).validate(args);
    if (result.valid) return null;
    errors = result.errors;
  } catch {
    return null; // a schema the validator cannot compile: the server is the judge
  }
  // The deepest error names the argument itself; those above it only say "does not match".
  const depth = (e: { instanceLocation: string }) => e.instanceLocation.split('/').length;
  const leaf = errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  const path = leaf.instanceLocation.replace(/^#\/?/, '').split('/').join('.');
  const where = path || '(the object)';
  return leaf.keyword === 'false'
    ? `${where}: the tool takes no such argument`
    : `${where}: ${leaf.error}`;
}

/** A stack frame's line: `    at fn (file:///x.js:1:2)`, `    at new Promise (<anonymous>)`. */
const FRAME = /\n[ \t]+at [^\n]*(?::\d+:\d+\)?|\((?:<anonymous>|native|index \d+)\))(?=\n|$)/g;

/** An error's text without the stack frames some libraries put into their messages. */
export function withoutStack(text: string): string {
  return text.replace(FRAME, '');
}

/**
 * An SDK server sends McpError's message, "MCP error <code>: " and all, and the SDK's client
 * adds that prefix again (as `String(err)` adds the class name "McpError: ").
 */
const SDK_PREFIX =
  /(?:McpError: )?(MCP error (-?\d+): )(?:MCP error \2: )+|McpError: (?=MCP error )/g;

/** An outside server's error as the model and the records show it: no stack, its code once. */
export function mcpErrorText(text: string): string {
  return withoutStack(text).replace(SDK_PREFIX, (_, once: string | undefined) => once ?? '');
}

/**
 * A failure reaching an outside server (MCP or A2A) as the records show it: fetch's bare
 * "fetch failed" with its reason (`connect ECONNREFUSED ...`), the transport's error with the
 * HTTP status it hides; then as mcpErrorText.
 */
export function failureText(err: unknown): string {
  if (!(err instanceof Error)) return mcpErrorText(String(err));
  let text = err.message;
  if (err instanceof StreamableHTTPError && (err.code ?? 0) > 0) {
    const said = text.replace(/^Streamable HTTP error: /, '').replace(/[:\s]+$/, '');
    text = `HTTP ${err.code} from the server: ${said}`;
  } else if (text === 'fetch failed' && err.cause instanceof Error) {
    const cause = err.cause as Error & { code?: string };
    const why = cause.message || cause.code;
    if (why) text = `fetch failed (${why})`;
  }
  return mcpErrorText(text);
}
