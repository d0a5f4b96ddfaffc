import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';

/**
 * Operations generated from a schema, for tests that must cover every root field, including
 * fields added later: the tenancy matrix walks them all with another tenant's ids.
 */

export type RootKind = 'query' | 'mutation' | 'subscription';

export interface RootField {
  root: RootKind;
  field: GraphQLField<unknown, unknown>;
}

/** The server's schema as a client sees it, through introspection (with the given key). */
export async function introspectSchema(url: string, key: string): Promise<GraphQLSchema> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: getIntrospectionQuery() }),
  });
  const body = (await res.json()) as { data?: IntrospectionQuery; errors?: unknown };
  if (!body.data) throw new Error(`introspection failed: ${JSON.stringify(body.errors)}`);
  return buildClientSchema(body.data);
}

/** Every field of Query, Mutation and Subscription, in schema order. */
export function rootFields(schema: GraphQLSchema): RootField[] {
  const roots: [RootKind, GraphQLObjectType | null | undefined][] = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ];
  return roots.flatMap(([root, type]) =>
    Object.values(type?.getFields() ?? {}).map((field) => ({ root, field })),
  );
}

/** Required: non-null and without a default, so a call must give it. */
function isRequired(arg: { type: GraphQLInputType; defaultValue?: unknown }): boolean {
  return isNonNullType(arg.type) && arg.defaultValue === undefined;
}

/** Fields that a selection may name without arguments. */
function selectable(field: GraphQLField<unknown, unknown>): boolean {
  return field.args.every((a: GraphQLArgument) => !isRequired(a));
}

/** Connections are `{ totalCount, nodes }` wrappers; they do not count as a level of depth. */
function connectionNodes(type: GraphQLObjectType): GraphQLNamedType | undefined {
  const fields = type.getFields();
  return fields.totalCount && fields.nodes ? getNamedType(fields.nodes.type) : undefined;
}

/**
 * A selection set for `type`: leaf fields up to `maxDepth` levels below the root field,
 * connections as `totalCount` and their `nodes`, interfaces and unions through inline
 * fragments, and one level further only `id` of objects that have one (so links to other
 * nodes show up). Fields with required arguments are left out. '' for a leaf type.
 */
export function selectionSet(
  schema: GraphQLSchema,
  type: GraphQLOutputType,
  maxDepth = 2,
  depth = 1,
  /** Arguments for a selected field that takes some, e.g. `(first: $n0)`; none when unset. */
  argsOf?: (field: GraphQLField<unknown, unknown>) => string,
): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (depth > maxDepth) {
    return hasIdField(named) ? '{ id }' : '';
  }
  if (isAbstractType(named)) {
    // Possible types may share a field name with different types: alias those per type.
    const possible = schema.getPossibleTypes(named);
    const typesOf = new Map<string, Set<string>>();
    for (const t of possible) {
      for (const f of Object.values(t.getFields())) {
        typesOf.set(f.name, (typesOf.get(f.name) ?? new Set()).add(String(f.type)));
      }
    }
    const conflicting = new Set([...typesOf].filter(([, types]) => types.size > 1).map(([n]) => n));
    const fragments = possible.map((t) => {
      const alias = (name: string) => (conflicting.has(name) ? `${t.name}_${name}: ${name}` : name);
      return `... on ${t.name} ${objectSelection(schema, t, maxDepth, depth, alias, argsOf)}`;
    });
    const id = hasIdField(named) ? ' id' : '';
    return `{ __typename${id} ${fragments.join(' ')} }`;
  }
  if (!isObjectType(named)) return '';
  const nodes = connectionNodes(named);
  if (nodes) {
    const inner = selectionSet(schema, nodes as GraphQLOutputType, maxDepth, depth, argsOf);
    return `{ totalCount nodes ${inner} }`;
  }
  return objectSelection(schema, named, maxDepth, depth, (name) => name, argsOf);
}

function objectSelection(
  schema: GraphQLSchema,
  named: GraphQLObjectType,
  maxDepth: number,
  depth: number,
  alias: (name: string) => string,
  argsOf?: (field: GraphQLField<unknown, unknown>) => string,
): string {
  const parts: string[] = [];
  for (const field of Object.values(named.getFields())) {
    if (!selectable(field)) continue;
    const call = () => (field.args.length && argsOf ? argsOf(field) : '');
    if (isLeafType(getNamedType(field.type))) {
      parts.push(alias(field.name) + call());
      continue;
    }
    const sub = selectionSet(schema, field.type, maxDepth, depth + 1, argsOf);
    if (sub) parts.push(`${alias(field.name)}${call()} ${sub}`);
  }
  return parts.length ? `{ ${parts.join(' ')} }` : '';
}

function hasIdField(type: GraphQLNamedType): boolean {
  return (isObjectType(type) || isInterfaceType(type)) && 'id' in type.getFields();
}

/** A place in the variables that takes a value chosen per call (an id, usually). */
export interface Slot {
  /** The argument or input field name, e.g. `agentId`. */
  name: string;
  /** Where it sits, e.g. `input.toAgentIds[0]`. */
  path: string;
  /** The scalar type, e.g. `ID`. */
  scalar: string;
}

export interface TemplateOptions {
  /** Whether a scalar position of a root field is a slot (default: every ID). */
  isSlot?(name: string, scalar: string, field: string): boolean;
  /** The value of a non-slot scalar; throw for a scalar the test does not know yet. */
  scalar(scalar: string, name: string, field: string): unknown;
}

/** One root field as an operation with variables, the slots filled per call. */
export interface OperationTemplate {
  root: RootKind;
  field: string;
  document: string;
  slots: Slot[];
  /** Optional Boolean arguments are given, all true or all false per call. */
  hasToggles: boolean;
  variables(fill: (slot: number) => string, toggle: boolean): Record<string, unknown>;
}

type Maker = (fill: (slot: number) => string, toggle: boolean) => unknown;

/**
 * Builds the operation for one root field. Arguments: every required one, and optional ones
 * that hold a slot somewhere (input objects: their required fields plus fields holding
 * slots) or are Boolean (toggled). Lists get one element.
 */
export function operationTemplate(
  schema: GraphQLSchema,
  root: RootKind,
  field: GraphQLField<unknown, unknown>,
  options: TemplateOptions,
): OperationTemplate {
  const isSlot = options.isSlot ?? ((_name: string, scalar: string) => scalar === 'ID');
  const slots: Slot[] = [];
  let hasToggles = false;

  /** A maker for a value of `type`, or undefined when an optional one holds no slot. */
  const build = (
    type: GraphQLInputType,
    name: string,
    path: string,
    required: boolean,
    level: number,
  ): Maker | undefined => {
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner)) {
      const item = build(inner.ofType, name, `${path}[0]`, required, level);
      return item && ((fill, toggle) => [item(fill, toggle)]);
    }
    if (isInputObjectType(inner)) {
      if (level > 4) return undefined;
      const makers: [string, Maker][] = [];
      for (const f of Object.values(inner.getFields())) {
        const m = build(f.type, f.name, `${path}.${f.name}`, isRequired(f), level + 1);
        if (m) makers.push([f.name, m]);
      }
      if (!required && makers.length === 0) return undefined;
      return (fill, toggle) =>
        Object.fromEntries(makers.map(([k, m]) => [k, m(fill, toggle)] as const));
    }
    if (isEnumType(inner)) {
      if (!required) return undefined;
      const value = inner.getValues()[0]!.name;
      return () => value;
    }
    if (!isScalarType(inner)) throw new Error(`unexpected input type ${String(inner)}`);
    if (isSlot(name, inner.name, field.name)) {
      const index = slots.push({ name, path, scalar: inner.name }) - 1;
      return (fill) => fill(index);
    }
    if (!required) return undefined;
    const value = options.scalar(inner.name, name, field.name);
    return () => value;
  };

  const args: { arg: GraphQLArgument; make: Maker }[] = [];
  for (const arg of field.args) {
    let make = build(arg.type, arg.name, arg.name, isRequired(arg), 0);
    if (!make && getNamedType(arg.type).name === 'Boolean') {
      hasToggles = true;
      make = (_fill, toggle) => toggle;
    }
    if (make) args.push({ arg, make });
  }

  const params = args.map(({ arg }, i) => `$v${i}: ${String(arg.type)}`);
  const callArgs = args.map(({ arg }, i) => `${arg.name}: $v${i}`);
  const call = callArgs.length ? `${field.name}(${callArgs.join(', ')})` : field.name;
  const header = params.length ? `(${params.join(', ')})` : '';
  const document = `${root} TenancyProbe${header} { ${call} ${selectionSet(schema, field.type)} }`;

  return {
    root,
    field: field.name,
    document,
    slots,
    hasToggles,
    variables: (fill, toggle) =>
      Object.fromEntries(args.map(({ make }, i) => [`v${i}`, make(fill, toggle)] as const)),
  };
}
