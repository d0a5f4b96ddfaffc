import type { GraphQLFormattedError, ParseOptions } from 'graphql';
import { LimitCode, LimitError } from './errors.js';

/**
 * For Apollo's `parseOptions` (and graphql's parse()): parsing stops at token `maxTokens + 1`
 * with a syntax error, before a huge document costs time or memory.
 */
export function tokenLimitParseOptions(maxTokens: number): ParseOptions {
  return { maxTokens };
}

// graphql 16 says "more that" (sic); later versions may fix the typo.
const TOKEN_LIMIT_MESSAGE = /Document contains more (?:than|that) (\d+) tokens/;

/**
 * The limit code for a parse failure's message, if it is one of ours: graphql's parse()
 * with `maxTokens` throws "Syntax Error: Document contains more that N tokens. Parsing
 * aborted.", which Apollo reports as GRAPHQL_PARSE_FAILED.
 */
export function limitCodeFor(message: string): LimitCode | undefined {
  return TOKEN_LIMIT_MESSAGE.test(message) ? LimitCode.TOO_MANY_TOKENS : undefined;
}

/** The error a client sees for a document with more than `maxTokens` tokens. */
export function tooManyTokensError(maxTokens: number): LimitError {
  return new LimitError(
    LimitCode.TOO_MANY_TOKENS,
    `Query is over the limit of ${maxTokens} tokens: parsing stopped at token ${maxTokens + 1}`,
    { limit: maxTokens, received: maxTokens + 1 },
  );
}

/**
 * For formatError: turns Apollo's GRAPHQL_PARSE_FAILED for the token limit into
 * TOO_MANY_TOKENS. Returns undefined for every other error, so the caller goes on as before.
 */
export function formatTokenLimitError(
  formatted: GraphQLFormattedError,
): GraphQLFormattedError | undefined {
  const match = TOKEN_LIMIT_MESSAGE.exec(formatted.message);
  if (formatted.extensions?.code !== 'GRAPHQL_PARSE_FAILED' || !match) return undefined;
  const error = tooManyTokensError(Number(match[1]));
  return {
    message: error.message,
    locations: formatted.locations,
    extensions: { ...error.details, code: error.code },
  };
}
