import neo4j from 'neo4j-driver';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { formatError } from '../src/server/format-error.js';
import { createLogger } from '../src/logger.js';

const logger = createLogger('silent');
const asGraphQL = (err: Error) =>
  new GraphQLError(err.message, { originalError: err, path: ['tasks'] });
const format = (err: Error) => {
  const e = asGraphQL(err);
  return formatError({ message: e.message, path: e.path }, e, logger);
};

/**
 * A read that Neo4j kept refusing for a transient reason until the request's deadline (its
 * transaction memory pool full, under bench:agents' load, 2026-12-01) answered
 * INTERNAL_SERVER_ERROR, which tells a client nothing it can act on.
 */
describe('formatError', () => {
  it('answers a Neo4j transient error that outlasted the retries with SERVICE_UNAVAILABLE', () => {
    const busy = new neo4j.Neo4jError(
      'The allocation of an extra 2.0 MiB would use more than the limit 358.4 MiB.',
      'Neo.TransientError.General.MemoryPoolOutOfMemoryError',
      '50N42',
      'error: general processing exception',
    );
    const answer = format(busy);
    expect(answer.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 });
    expect(answer.message).toMatch(/busy.*retry/i);
    expect(answer.message).not.toContain('MiB');
  });

  it('keeps a Neo4j client error an internal error, its details in the log only', () => {
    const bug = new neo4j.Neo4jError(
      'Invalid input',
      'Neo.ClientError.Statement.SyntaxError',
      '42001',
      'error: syntax error',
    );
    const answer = format(bug);
    expect(answer).toEqual({
      message: 'Internal server error',
      path: ['tasks'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  });
});
