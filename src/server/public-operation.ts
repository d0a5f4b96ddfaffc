import { Kind, parse, type DocumentNode } from 'graphql';

/** Root fields that need no key: they read nothing of a tenant. */
const PUBLIC_FIELDS = new Set(['health', '__typename']);

/** Longer documents are never public-only; they are authenticated as usual. */
const MAX_LENGTH = 2_000;

/**
 * True when every operation of `query` is a query of public root fields only (no fragments,
 * no mutation). Such a request is answered without looking its key up, so `health` answers
 * at once with or without a key, also while Neo4j is down (issue 9: it waited 15 s for the
 * key lookup). Anything it cannot parse is not public-only: Apollo reports the error later.
 */
export function isPublicOnly(query: unknown, maxTokens: number): boolean {
  if (typeof query !== 'string' || query.length > MAX_LENGTH) return false;
  const key = `${maxTokens}:${query}`;
  let answer = answers.get(key);
  if (answer === undefined) {
    answer = publicOnly(query, maxTokens);
    if (answers.size >= MAX_ANSWERS) answers.clear();
    answers.set(key, answer);
  }
  return answer;
}

/** Answers by query text: clients send the same few texts, and each was parsed every time. */
const answers = new Map<string, boolean>();
const MAX_ANSWERS = 1_000;

function publicOnly(query: string, maxTokens: number): boolean {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens, noLocation: true });
  } catch {
    return false;
  }
  return document.definitions.every(
    (def) =>
      def.kind === Kind.OPERATION_DEFINITION &&
      def.operation === 'query' &&
      def.selectionSet.selections.every(
        (sel) => sel.kind === Kind.FIELD && PUBLIC_FIELDS.has(sel.name.value),
      ),
  );
}
