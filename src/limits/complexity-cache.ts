import {
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';

/** Of one document: the variables its complexity reads, and the complexities computed. */
interface Remembered {
  inputs: readonly string[];
  complexities: Map<string, number>;
}

/** Complexities kept per document: past it (pages of every size), the document starts over. */
const MAX_PER_DOCUMENT = 100;

/** Longer keys (large filter values beside a page's size) are worked out, not remembered. */
const MAX_KEY_LENGTH = 1_000;

const bySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Remembered>>();

/**
 * The complexity of an operation of `document` with `variables`, computed by `compute` once per
 * operation and values of the variables it depends on (complexityInputs). Apollo hands the same
 * document object for the same query text (its document cache), and working the complexity out
 * again was about as much of the API's CPU as the Neo4j read on a one-task read (issue 15).
 * Kept with the document, so it goes when the document does. A `compute` that throws is not
 * remembered: invalid variables are refused every time (also by execution, with the same code).
 */
export function rememberedComplexity(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined,
  compute: () => number,
): number {
  let documents = bySchema.get(schema);
  if (!documents) bySchema.set(schema, (documents = new WeakMap()));
  let remembered = documents.get(document);
  if (!remembered) {
    remembered = { inputs: complexityInputs(schema, document), complexities: new Map() };
    documents.set(document, remembered);
  }
  const given = variables ?? {};
  const values = remembered.inputs.filter((name) => Object.hasOwn(given, name));
  const key = JSON.stringify([operationName ?? null, values, values.map((name) => given[name])]);
  const known = remembered.complexities.get(key);
  if (known !== undefined) return known;
  const complexity = compute();
  if (key.length > MAX_KEY_LENGTH) return complexity;
  if (remembered.complexities.size >= MAX_PER_DOCUMENT) remembered.complexities.clear();
  remembered.complexities.set(key, complexity);
  return complexity;
}

/**
 * The variables an operation's complexity can depend on (complexity.ts's estimators): those in
 * directives (@include and @skip choose what is counted), and those in the arguments of a field
 * that has a `first` argument or a complexity function of its arguments. Any other variable (an
 * id, a filter) leaves the complexity as it is.
 */
export function complexityInputs(schema: GraphQLSchema, document: DocumentNode): string[] {
  const inputs = new Set<string>();
  const collect = (node: ASTNode) =>
    visit(node, { Variable: (variable) => void inputs.add(variable.name.value) });
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Directive: (directive) => void collect(directive),
      Field: (field) => {
        const definition = typeInfo.getFieldDef();
        const priced =
          !definition ||
          definition.args.some((arg) => arg.name === 'first') ||
          typeof definition.extensions.complexity === 'function';
        if (priced) for (const argument of field.arguments ?? []) collect(argument);
      },
    }),
  );
  return [...inputs].sort();
}
