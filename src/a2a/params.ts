/** The methods whose params carry a message (A2A 1.0's JSON-RPC binding). */
const SENDS = new Set(['SendMessage', 'SendStreamingMessage']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const shown = (value: unknown) => (Array.isArray(value) ? 'a list' : JSON.stringify(value));

/**
 * Why a body cannot be an A2A call, as the JSON-RPC error to answer, or null: -32600 for JSON
 * that is no request object (the SDK called a JSON string "not valid JSON"), -32602 for params
 * the SDK cannot read (invalidParams).
 */
export function badRequest(message: unknown): { code: number; message: string } | null {
  if (!isObject(message)) {
    const example = '{"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {...}}';
    return {
      code: -32600,
      message: `Send one JSON-RPC request object, such as ${example}; got ${shown(message).slice(0, 100)}`,
    };
  }
  const invalid = invalidParams(message);
  return invalid ? { code: -32602, message: invalid } : null;
}

/**
 * Why a JSON-RPC request's params cannot be an A2A call's, e.g. "params.message.parts[1] must
 * be an object such as {"text": "..."}, but got null", or null when the SDK may read them. The
 * SDK reads a null part (or message) as if it were an object: "Cannot read properties of null",
 * answered -32603, an internal error, for the caller's mistake. The route answers -32602.
 */
function invalidParams(message: Record<string, unknown>): string | null {
  const { method, params } = message;
  if (typeof method !== 'string' || !SENDS.has(method)) return null;
  if (!isObject(params)) return `params must be an object, but got ${shown(params)}`;
  const sent = params.message;
  if (!isObject(sent)) {
    return `params.message must be an object with role and parts, but got ${shown(sent)}`;
  }
  if (!Array.isArray(sent.parts)) {
    return `params.message.parts must be a list of parts, but got ${shown(sent.parts)}`;
  }
  const at = sent.parts.findIndex((part) => !isObject(part));
  if (at >= 0) {
    const part = shown(sent.parts[at]).slice(0, 100);
    return `params.message.parts[${at}] must be an object such as {"text": "..."}, but got ${part}`;
  }
  return null;
}
