import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';

/** The server's schema as a client sees it, through introspection. */
export async function introspect(url: string, key: string): Promise<GraphQLSchema> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: getIntrospectionQuery() }),
  });
  const body = (await res.json()) as { data: IntrospectionQuery };
  return buildClientSchema(body.data);
}

export type RootKind = 'query' | 'mutation' | 'subscription';

/** Every field of Query, Mutation and Subscription. */
export function rootFields(
  schema: GraphQLSchema,
): { kind: RootKind; field: GraphQLField<unknown, unknown> }[] {
  const roots: [RootKind, ReturnType<GraphQLSchema['getQueryType']>][] = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ];
  return roots.flatMap(([kind, type]) =>
    Object.values(type?.getFields() ?? {}).map((field) => ({ kind, field })),
  );
}

/**
 * A GraphQL literal for a required value of `type`: ids from `id()`, strings `text`, and
 * input objects with their required fields filled the same way.
 */
export function dummyValue(type: GraphQLInputType, id: () => string, text: string): string {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return `[${dummyValue(inner.ofType, id, text)}]`;
  if (isEnumType(inner)) return inner.getValues()[0]!.name;
  if (isInputObjectType(inner)) {
    const fields = Object.values(inner.getFields()).filter(
      (f) => isNonNullType(f.type) && f.defaultValue === undefined,
    );
    return `{ ${fields.map((f) => `${f.name}: ${dummyValue(f.type, id, text)}`).join(', ')} }`;
  }
  if (isScalarType(inner)) {
    switch (inner.name) {
      case 'ID':
        return JSON.stringify(id());
      case 'String':
        return JSON.stringify(text);
      case 'Int':
        return '1';
      case 'Float':
        return '0.5';
      case 'Boolean':
        return 'false';
      case 'JSONObject':
        return '{}';
      case 'DateTimeISO':
        return '"2026-01-01T00:00:00.000Z"';
    }
  }
  throw new Error(`no dummy value for ${String(type)}`);
}

/** An operation calling one root field with its required arguments filled in. */
export function operationFor(
  kind: RootKind,
  field: GraphQLField<unknown, unknown>,
  id: () => string,
  text: string,
): string {
  const args = field.args
    .filter((a: GraphQLArgument) => isNonNullType(a.type) && a.defaultValue === undefined)
    .map((a) => `${a.name}: ${dummyValue(a.type, id, text)}`);
  const call = args.length ? `${field.name}(${args.join(', ')})` : field.name;
  const named = getNamedType(field.type);
  const selection = isScalarType(named) || isEnumType(named) ? '' : ' { __typename }';
  return `${kind} { ${call}${selection} }`;
}
