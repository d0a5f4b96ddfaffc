import { JsonRpcTransportError } from '@a2a-js/sdk/errors';
import { REQUEST_ERROR_CODES } from '../server/format-error.js';
import { LimitCode } from '../limits/errors.js';
import { OperationError } from '../mcp/operations.js';

/**
 * The codes of a caller refused (src/domain/errors.ts, the limits, a budget, a bad request).
 * INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE (Neo4j down) and ERROR are the platform failing.
 */
const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'FORBIDDEN',
  'LIMIT_EXCEEDED',
  'UNAUTHENTICATED',
  'BUDGET_EXCEEDED',
  ...Object.values(LimitCode),
  ...REQUEST_ERROR_CODES,
]);

/**
 * A GraphQL refusal (FORBIDDEN, LIMIT_EXCEEDED...) as the JSON-RPC error /a2a gives before
 * JSON-RPC starts (json-rpc-route.ts): -32000 and `CODE: message`. The SDK would call it an
 * internal error (-32603), as if the platform had failed rather than the caller been refused.
 * Any other error is thrown as it is: the SDK's internal error, as the platform failed.
 */
export function asRefusal(err: unknown): never {
  if (!(err instanceof OperationError) || !REFUSAL_CODES.has(err.code)) throw err;
  throw new JsonRpcTransportError({
    jsonrpc: '2.0',
    id: null,
    error: { code: -32000, message: `${err.code}: ${err.message}` },
  });
}
