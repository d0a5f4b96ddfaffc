import { buildSchema, parse, validate, type GraphQLSchema } from 'graphql';

/** A GraphQL operation found in a document, with where it starts (1-based line). */
export interface DocOperation {
  file: string;
  line: number;
  source: string;
}

const FENCE = /^([ \t]*)(`{3,}|~{3,})[ \t]*([\w-]*)[^\n]*\n([\s\S]*?)^[ \t]*\2[ \t]*$/gm;
const KEYWORD = /^(query|mutation|subscription)\b/;
/** `{ field {` or `{ field(args) {`: a selection that selects into an object. */
const NESTED = /^\{\s*[_A-Za-z]\w*\s*(\([^)]*\)\s*)?\{/;
/** `field {` or `field(args) {` at the start: a root field without its operation keyword. */
const BARE_FIELD = /^([_A-Za-z]\w*)\s*(\([^)]*\)\s*)?\{/;

/**
 * Every GraphQL operation in a Markdown text: each ```graphql fenced block (indentation
 * removed), and each inline code span that is an operation: one that begins with query,
 * mutation or subscription; a `{ ... }` selection that selects into an object or starts with a
 * root field; or `rootField { ... }`, which is wrapped in the operation type that has the field.
 * Other spans (JSON such as `{ "authorization": ... }`, TypeScript such as `{ cypher, params }`)
 * are left alone.
 */
export function markdownOperations(
  file: string,
  markdown: string,
  roots: RootFields,
): DocOperation[] {
  const found: DocOperation[] = [];
  const lineAt = (offset: number) => markdown.slice(0, offset).split('\n').length;
  let prose = markdown;
  for (const fence of markdown.matchAll(FENCE)) {
    const [whole, indent, , lang, body] = fence;
    if (lang === 'graphql' || lang === 'gql') {
      const source = body!
        .split('\n')
        .map((l) => (l.startsWith(indent!) ? l.slice(indent!.length) : l.trimStart()))
        .join('\n');
      found.push({ file, line: lineAt(fence.index!) + 1, source });
    }
    // Blank the block out (keeping offsets) so spans are looked for in prose only.
    prose =
      prose.slice(0, fence.index!) +
      whole.replace(/[^\n]/g, ' ') +
      prose.slice(fence.index! + whole.length);
  }
  for (const span of prose.matchAll(/(`+)([^`]+?)\1/g)) {
    const text = span[2]!.replace(/\s+/g, ' ').trim();
    const source = asOperation(text, roots);
    if (source) found.push({ file, line: lineAt(span.index!), source });
  }
  return found.sort((a, b) => a.line - b.line);
}

/** The root fields of a schema, by operation keyword. */
export type RootFields = Record<'query' | 'mutation' | 'subscription', Set<string>>;

export function rootFields(schema: GraphQLSchema): RootFields {
  const names = (type: { getFields(): Record<string, unknown> } | null | undefined) =>
    new Set(Object.keys(type?.getFields() ?? {}));
  return {
    query: names(schema.getQueryType()),
    mutation: names(schema.getMutationType()),
    subscription: names(schema.getSubscriptionType()),
  };
}

function asOperation(text: string, roots: RootFields): string | undefined {
  if (KEYWORD.test(text)) return text;
  const isRoot = (name: string) => Object.values(roots).some((set) => set.has(name));
  if (text.startsWith('{') && text.endsWith('}')) {
    const first = /^\{\s*([_A-Za-z]\w*)/.exec(text)?.[1];
    return NESTED.test(text) || (first && isRoot(first)) ? text : undefined;
  }
  const bare = BARE_FIELD.exec(text);
  if (bare && text.endsWith('}') && isRoot(bare[1]!)) {
    const keyword = (['query', 'mutation', 'subscription'] as const).find((k) =>
      roots[k].has(bare[1]!),
    );
    return `${keyword} { ${text} }`;
  }
  return undefined;
}

/**
 * What is wrong with each operation against the schema SDL, as `file:line: message` lines
 * (empty when all are valid). Syntax errors count as wrong.
 */
export function operationProblems(sdl: string, operations: DocOperation[]): string[] {
  const schema = buildSchema(sdl);
  const problems: string[] = [];
  for (const op of operations) {
    try {
      for (const error of validate(schema, parse(op.source))) {
        problems.push(`${op.file}:${op.line}: ${error.message}`);
      }
    } catch (err) {
      problems.push(`${op.file}:${op.line}: ${(err as Error).message}`);
    }
  }
  return problems;
}
