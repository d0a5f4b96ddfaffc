import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { expect } from 'vitest';
import type { TestServer } from './server.js';
import { codesOf, post, preview, untypedProblem, type OwnIds } from './hostile.js';

/*
 * The hostile-input suites' operations, generated from the schema: every place that takes a
 * String or an ID, and an operation that puts a payload there with valid values elsewhere.
 */

// ---------------------------------------------------------------------------------------------
// Operations generated from the schema

/** The server's schema as a client sees it, by introspection. */
export async function introspectSchema(server: TestServer): Promise<GraphQLSchema> {
  const res = await post(server, getIntrospectionQuery());
  expect(res.json?.errors, res.text.slice(0, 300)).toBeUndefined();
  return buildClientSchema(res.json!.data as IntrospectionQuery);
}

/** Where a value goes: a root field, its argument, then input fields and list items (0). */
export interface Slot {
  operation: 'query' | 'mutation';
  field: GraphQLField<unknown, unknown>;
  /** e.g. ['input', 'capabilities', 0, 'name'] */
  path: (string | 0)[];
  /** The slot may be left out (an optional argument or input field on the way). */
  optional: boolean;
  /** The scalar or enum it takes. */
  type: GraphQLNamedType;
}

/**
 * Every place of Query and Mutation that takes the scalar or enum type named `named` (or any
 * enum, for 'enum'): arguments, and fields of input objects (recursively, through lists).
 */
export function slotsOf(schema: GraphQLSchema, named: string): Slot[] {
  const slots: Slot[] = [];
  const walk = (
    base: Omit<Slot, 'path' | 'optional' | 'type'>,
    type: GraphQLInputType,
    path: (string | 0)[],
    optional: boolean,
    seen: Set<string>,
  ) => {
    const nullable = !isNonNullType(type);
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner)) {
      walk(base, inner.ofType, [...path, 0], optional || nullable, seen);
    } else if (isInputObjectType(inner)) {
      if (seen.has(inner.name)) return; // a recursive input type: once is enough
      for (const field of Object.values(inner.getFields())) {
        const fieldOptional = !isNonNullType(field.type) || field.defaultValue !== undefined;
        walk(
          base,
          field.type,
          [...path, field.name],
          optional || nullable || fieldOptional,
          new Set([...seen, inner.name]),
        );
      }
    } else if (named === 'enum' ? isEnumType(inner) : getNamedType(inner).name === named) {
      slots.push({ ...base, path, optional: optional || nullable, type: getNamedType(inner) });
    }
  };
  for (const operation of ['query', 'mutation'] as const) {
    const root = operation === 'query' ? schema.getQueryType() : schema.getMutationType();
    for (const field of Object.values(root?.getFields() ?? {})) {
      for (const arg of field.args) {
        walk({ operation, field }, arg.type, [arg.name], arg.defaultValue !== undefined, new Set());
      }
    }
  }
  return slots;
}

/** Which of the own ids an ID argument wants, by the field's and the argument's names. */
export function idFor(ids: OwnIds, fieldName: string, name: string): string {
  const arg = name.toLowerCase();
  const field = fieldName.toLowerCase();
  if (arg === 'reassignto') return ids.otherAgent;
  if (arg.includes('dependson')) return ids.otherTask;
  if (/agent|assignee|delegatedby/.test(arg)) return ids.agent;
  if (/task|parent/.test(arg)) return ids.task;
  if (arg.includes('conversation')) return ids.conversation;
  if (arg.includes('supersedes')) return ids.knowledge;
  if (arg.includes('actorkey')) return ids.apiKey;
  if (field.includes('knowledge')) return ids.knowledge;
  if (field.includes('apikey')) return ids.apiKey;
  if (field.includes('conversation')) return ids.conversation;
  if (field.includes('message')) return ids.message;
  if (field.includes('task')) return ids.task;
  return ids.agent;
}

/**
 * What an input object needs beyond its schema-required fields for the service to get as far
 * as storing the value under test.
 */
let fillCounter = 0;

const EXTRA_INPUT_FIELDS: Record<string, (ids: OwnIds) => Record<string, unknown>> = {
  SendMessageInput: (ids) => ({ toAgentIds: [ids.agent] }),
  // Names the service accepts (a fill's spaces are not), unique so none meets a CONFLICT.
  ToolPolicyInput: () => ({ tool: 'record_knowledge', mode: 'WHEN', roles: ['MASTER_OPERATOR'] }),
  ToolServerInput: () => ({
    name: `hostile-${++fillCounter}`,
    transport: 'HTTP',
    url: 'http://127.0.0.1:9/mcp',
  }),
};

/** A valid value of `type`: required fields filled, ids of the tester's own tenant. */
function validValue(type: GraphQLInputType, ids: OwnIds, fieldName: string, name: string): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [validValue(inner.ofType, ids, fieldName, name)];
  if (isInputObjectType(inner)) return requiredFields(inner, ids, fieldName);
  if (isEnumType(inner)) return inner.getValues()[0]!.value;
  switch (inner.name) {
    case 'ID':
      return idFor(ids, fieldName, name);
    case 'String':
      return `hostile fill ${++fillCounter}`;
    case 'Int':
      return 1;
    case 'Float':
      return 0.5;
    case 'Boolean':
      return false;
    case 'DateTimeISO':
      return new Date().toISOString();
    case 'JSONObject':
      return {};
    default:
      throw new Error(`No valid value known for scalar ${inner.name}: teach validValue`);
  }
}

function requiredFields(
  type: Extract<GraphQLInputType, { getFields: unknown }>,
  ids: OwnIds,
  fieldName: string,
): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const field of Object.values(type.getFields())) {
    if (isNonNullType(field.type) && field.defaultValue === undefined) {
      value[field.name] = validValue(field.type, ids, fieldName, field.name);
    }
  }
  return { ...value, ...EXTRA_INPUT_FIELDS[type.name]?.(ids) };
}

/** `type` with `payload` at `path` and valid values everywhere else it needs one. */
function valueAt(
  type: GraphQLInputType,
  path: (string | 0)[],
  payload: unknown,
  ids: OwnIds,
  fieldName: string,
): unknown {
  if (path.length === 0) return payload;
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [valueAt(inner.ofType, path.slice(1), payload, ids, fieldName)];
  if (!isInputObjectType(inner)) throw new Error(`Cannot follow ${path.join('.')} into ${inner}`);
  const [name, ...rest] = path as [string, ...(string | 0)[]];
  return {
    ...requiredFields(inner, ids, fieldName),
    [name]: valueAt(inner.getFields()[name]!.type, rest, payload, ids, fieldName),
  };
}

/** A small selection for a field's result: ids where there are ids, else __typename. */
function selectionFor(type: GraphQLOutputType): string {
  const named = getNamedType(type);
  if (!isObjectType(named) && !isInterfaceType(named)) return '';
  const fields = named.getFields();
  if (fields.id) return '{ id }';
  const withIds = Object.values(fields).filter((f) => {
    const t = getNamedType(f.type);
    return (
      (isObjectType(t) || isInterfaceType(t)) &&
      'id' in t.getFields() &&
      f.args.every((a) => !isNonNullType(a.type))
    );
  });
  return `{ __typename ${withIds.map((f) => `${f.name} { id }`).join(' ')} }`;
}

/** The operation that puts `payload` into `slot`, every other required argument valid. */
export function operationFor(
  slot: Slot,
  payload: unknown,
  ids: OwnIds,
): { query: string; variables: Record<string, unknown> } {
  const { field } = slot;
  const variables: Record<string, unknown> = {};
  const declared: string[] = [];
  const passed: string[] = [];
  for (const arg of field.args) {
    let value: unknown;
    if (arg.name === slot.path[0]) {
      value = valueAt(arg.type, slot.path.slice(1), payload, ids, field.name);
    } else if (isNonNullType(arg.type) && arg.defaultValue === undefined) {
      value = validValue(arg.type, ids, field.name, arg.name);
    } else continue;
    variables[arg.name] = value;
    declared.push(`$${arg.name}: ${String(arg.type)}`);
    passed.push(`${arg.name}: $${arg.name}`);
  }
  const vars = declared.length ? `(${declared.join(', ')})` : '';
  const args = passed.length ? `(${passed.join(', ')})` : '';
  return {
    query: `${slot.operation} Hostile${vars} { ${field.name}${args} ${selectionFor(field.type)} }`,
    variables,
  };
}

/** e.g. `Mutation.createAgent(input.capabilities[0].name)` */
export function describeSlot(slot: Slot): string {
  const path = slot.path.map((p, i) => (p === 0 ? '[0]' : i === 0 ? p : `.${p}`)).join('');
  return `${slot.operation}.${slot.field.name}(${path})`;
}

/**
 * The items reordered round-robin over their keys (the first of each key, then the second of
 * each, ...), keeping each key's own order. A sweep run in this order has requests of
 * different operations in flight together, not a burst of one operation: fifteen concurrent
 * writes to one seed agent (and the chat replies they start) queue on its lock, and on a
 * loaded machine that queue, not the input under test, decides how long a request takes.
 */
export function interleaved<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const out: T[] = [];
  for (let round = 0; out.length < items.length; round++) {
    for (const group of groups.values()) if (round < group.length) out.push(group[round]!);
  }
  return out;
}

/** Runs `work` on every item, at most `concurrency` at a time, in order of start. */
export async function eachLimited<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/**
 * Sends each value to its slot, operations interleaved, four at a time, and collects every
 * answer that is neither a success nor a typed refusal (`problems`), how many were accepted,
 * and the tenants createTenant made (`created`: the caller's to delete).
 */
export async function sweepSlots(
  server: TestServer,
  ids: OwnIds,
  cases: readonly { slot: Slot; value: unknown }[],
  created: string[],
): Promise<{ problems: string[]; accepted: number }> {
  const problems: string[] = [];
  let accepted = 0;
  const ordered = interleaved(cases, ({ slot }) => `${slot.operation}.${slot.field.name}`);
  await eachLimited(ordered, 4, async ({ slot, value }) => {
    const { query, variables } = operationFor(slot, value, ids);
    const res = await post(server, query, variables);
    const problem = untypedProblem(res);
    if (problem) problems.push(`${describeSlot(slot)} <- ${preview(value)}: ${problem}`);
    if (codesOf(res).length === 0) accepted++;
    const data = res.json?.data as { createTenant?: { tenant: { id: string } } } | null;
    if (data?.createTenant) created.push(data.createTenant.tenant.id);
  });
  return { problems, accepted };
}
