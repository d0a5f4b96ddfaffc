import { LimitError } from './errors.js';

/**
 * The deepest nesting of { } and [ ] in a GraphQL document, skipping strings and comments.
 * graphql's parser is recursive: thousands of levels can overflow the stack before the token
 * limit is reached, so this cheap scan refuses such documents before they are parsed.
 */
export function nestingDepth(source: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '#') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (ch === '"') {
      if (source.startsWith('"""', i)) {
        let end = source.indexOf('"""', i + 3);
        while (end !== -1 && source[end - 1] === '\\') end = source.indexOf('"""', end + 3);
        i = end === -1 ? source.length : end + 2;
      } else {
        for (i++; i < source.length && source[i] !== '"' && source[i] !== '\n'; i++) {
          if (source[i] === '\\') i++;
        }
      }
    } else if (ch === '{' || ch === '[') {
      max = Math.max(max, ++depth);
    } else if (ch === '}' || ch === ']') {
      depth--;
    }
  }
  return max;
}

/**
 * Refuses a document nested far beyond the depth limit, before parsing. The margin leaves the
 * precise QUERY_TOO_DEEP of the validation rule to ordinary documents (arguments and input
 * objects nest too).
 */
export function assertParseableNesting(source: unknown, maxDepth: number): void {
  if (typeof source !== 'string') return;
  const limit = maxDepth * 2 + 20;
  const depth = nestingDepth(source);
  if (depth > limit) {
    throw new LimitError(
      'QUERY_TOO_DEEP',
      `Document nesting ${depth} is over the limit of ${limit}; the query depth limit is ${maxDepth}`,
      { limit: maxDepth, received: depth },
    );
  }
}
