import { JsonRpcTransportError } from '@a2a-js/sdk/errors';
import { describe, expect, it } from 'vitest';
import { asRefusal } from '../src/a2a/refusal.js';
import { OperationError } from '../src/mcp/operations.js';

/** What asRefusal throws for an error: the JSON-RPC refusal, or the error itself. */
function thrownFor(err: unknown): unknown {
  try {
    asRefusal(err);
  } catch (thrown) {
    return thrown;
  }
  throw new Error('asRefusal returned');
}

describe('an A2A operation refused by GraphQL', () => {
  it.each(['FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'UNAUTHENTICATED'])(
    'answers %s as the caller refused (-32000, its code and message)',
    (code) => {
      const thrown = thrownFor(new OperationError(code, 'what to fix'));
      expect(thrown).toBeInstanceOf(JsonRpcTransportError);
      expect((thrown as JsonRpcTransportError).errorResponse.error).toEqual({
        code: -32000,
        message: `${code}: what to fix`,
      });
    },
  );

  it.each(['LIMIT_EXCEEDED', 'RATE_LIMITED', 'QUERY_TOO_COMPLEX', 'BUDGET_EXCEEDED'])(
    'answers the limit %s as a refusal too',
    (code) => {
      expect(thrownFor(new OperationError(code, 'over'))).toBeInstanceOf(JsonRpcTransportError);
    },
  );

  // Neo4j down during CancelTask: the platform failed, the caller was not refused.
  it.each(['INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE', 'ERROR'])(
    'leaves %s an internal error, not a refusal',
    (code) => {
      const err = new OperationError(code, 'The database is busy; retry in a moment');
      expect(thrownFor(err)).toBe(err);
    },
  );
});
