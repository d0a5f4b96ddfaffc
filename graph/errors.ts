import { alreadyExists, ConflictError, UnavailableError } from '../src/domain/errors.js';
import { isUnreachablePool } from './breaker.js';

/** Translates Neo4j driver errors into the app's hierarchy; the one place that knows codes. */
export function translateDriverError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (typeof code !== 'string') return err;
  if (isUnreachablePool(err)) {
    return new UnavailableError('The graph database is not reachable right now; try again shortly');
  }
  if (isBusyPool(err)) {
    // Every pooled connection is busy: Neo4j is there, the caller may retry shortly.
    return new UnavailableError('The graph database is busy right now; try again shortly', {
      retryAfterSeconds: 1,
    });
  }
  if (code === 'Neo.ClientError.Schema.ConstraintValidationFailed') {
    return (
      takenValue(String((err as Error).message ?? '')) ??
      new ConflictError('That value is already taken')
    );
  }
  if (code === 'ServiceUnavailable' || code === 'SessionExpired') {
    return new UnavailableError('The graph database is not reachable right now; try again shortly');
  }
  return err;
}

/**
 * The driver's acquisition timeout while the pool had connections (in use): Neo4j answers but
 * all of them are busy. isUnreachablePool (breaker.ts) is the case with none at all.
 */
export function isBusyPool(err: unknown): boolean {
  const message = String((err as { message?: unknown }).message ?? '');
  return message.startsWith('Connection acquisition timed out') && !isUnreachablePool(err);
}

/** Neo4j ended a transaction that ran past the timeout it was begun with. */
export function isTransactionTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' && code.startsWith('Neo.ClientError.Transaction.TransactionTimedOut')
  );
}

/** True when the credentials were refused: retrying cannot help. */
export function isAuthError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return code.startsWith('Neo.ClientError.Security');
}

/**
 * The CONFLICT a unique constraint's violation means, from Neo4j's text: "Node(1221) already
 * exists with label `Agent` and properties `tenantId` = 'default', `name` = 'Ada'". The loser
 * of a race gets what a later caller gets from the service's own check, never the node's
 * internal id; the tenant, which every such key holds, goes unsaid. Null for another text.
 */
function takenValue(message: string): ConflictError | null {
  const m = /already exists with label `(\w+)` and propert(?:y|ies) (`.*)$/s.exec(message);
  if (!m) return null;
  const values: Record<string, string> = {};
  for (const part of m[2]!.split(/, (?=`\w+` = )/)) {
    const p = /^`(\w+)` = (.*)$/s.exec(part);
    if (!p) return null;
    if (p[1] !== 'tenantId') values[p[1]!] = p[2]!.replace(/^'(.*)'$/s, '$1');
  }
  return Object.keys(values).length ? alreadyExists(m[1]!, values) : null;
}

/**
 * Calls `start` with no stack captured by the errors it creates. The driver captures one for
 * every statement it sends (`new Error().stack`, for its own errors' traces), formatted
 * through the source maps tsx installs: about 0.16 ms a statement, a tenth of the API's CPU on
 * a one-task read (issue 15). Its errors then carry their message and code, which is what
 * translateDriverError, the logs and the spans read; the statement's name is in the span.
 */
export function withoutStack<T>(start: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return start();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
