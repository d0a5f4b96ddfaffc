import {
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { idFor } from './hostile-operations.js';
import type { OwnIds } from './hostile.js';
import { rootFields, selectionSet, type RootKind } from './schema-walk.js';
import {
  HOSTILE_DATES,
  HOSTILE_FLOATS,
  HOSTILE_INTS,
  HOSTILE_STRINGS,
  PLAIN_STRINGS,
  Prng,
  WRONG_TYPES,
  hostileObjects,
} from './fuzz-values.js';

/*
 * The fuzz suite's operations (test/fuzz.int.test.ts): for every Query and Mutation field,
 * cases drawn from a seeded PRNG, each one mode of misuse (a missing argument, a null, a wrong
 * type, one hostile value among valid ones, hostile values everywhere, a 10k-item list, inline
 * literals) with a selection of the result's scalar fields.
 */

/** Ids a case may send: the tester's own objects' and another tenant's. */
export interface FuzzIds {
  own: OwnIds;
  other: readonly string[];
}

export interface FuzzCase {
  /** e.g. `mutation.createAgent#2 wrongType(input)`: enough to find the case again. */
  what: string;
  query: string;
  variables: Record<string, unknown>;
}

/**
 * How a case misuses its field. `edge`: valid values everywhere but one, which is of the right
 * type and hostile (so it gets past GraphQL to the domain); `chaos`: hostile values anywhere.
 */
type Mode = 'missing' | 'undeclared' | 'null' | 'wrongType' | 'edge' | 'chaos' | 'huge' | 'literal';
const MODES: readonly Mode[] = [
  'missing',
  'undeclared',
  'null',
  'wrongType',
  'edge',
  'edge',
  'edge',
  'edge',
  'chaos',
  'huge',
  'literal',
];

/**
 * calm: values the domain accepts (own ids that fit the argument's name); edge: of the right
 * type but hostile; wild: anything, wrong types and nulls included.
 */
type Temper = 'calm' | 'edge' | 'wild';

const isRequired = (a: { type: GraphQLInputType; defaultValue?: unknown }) =>
  isNonNullType(a.type) && a.defaultValue === undefined;

/** A seed per field, so a field added to the schema leaves the other fields' cases alone. */
function fieldSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const EDGE_INTS = [0, -1, -2_147_483_648, 2_147_483_647, 1_000_000];
const EDGE_FLOATS = [0, -1, 5e-324, 1e308, -1e308];

class Values {
  constructor(
    private readonly rng: Prng,
    private readonly ids: FuzzIds,
    private readonly field: string,
  ) {}

  /** A value of `type` for the argument or input field `name`. */
  of(type: GraphQLInputType, name: string, temper: Temper, depth = 0): unknown {
    const r = this.rng;
    if (isNonNullType(type)) {
      return temper === 'wild' && r.chance(0.03) ? null : this.of(type.ofType, name, temper, depth);
    }
    if (temper === 'wild' && r.chance(0.08)) return null;
    if (isListType(type)) {
      if (temper !== 'calm' && r.chance(0.15)) return [];
      const items = Array.from({ length: 1 + r.int(3) }, () =>
        this.of(type.ofType, name, temper === 'edge' ? 'calm' : temper, depth + 1),
      );
      if (temper === 'edge')
        items[r.int(items.length)] = this.of(type.ofType, name, 'edge', depth + 1);
      return items;
    }
    if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields());
      const edgeField = temper === 'edge' ? r.pick(fields) : undefined;
      const value: Record<string, unknown> = {};
      for (const f of fields) {
        if (f === edgeField) value[f.name] = this.of(f.type, f.name, 'edge', depth + 1);
        else if (isRequired(f) || (depth < 4 && r.chance(temper === 'wild' ? 0.5 : 0.2))) {
          const inner = temper === 'wild' ? 'wild' : 'calm';
          value[f.name] = this.of(f.type, f.name, inner, depth + 1);
        }
      }
      if (temper === 'wild' && r.chance(0.05)) value.fuzzUnknownField = 1;
      return value;
    }
    if (isEnumType(type)) {
      const names = type.getValues().map((v) => v.name);
      if (temper !== 'wild' || r.chance(0.8)) return r.pick(names);
      return r.pick(['NOT_A_VALUE', r.pick(names).toLowerCase(), '', 42]);
    }
    return this.scalar(type.name, name, temper);
  }

  scalar(scalar: string, name: string, temper: Temper): unknown {
    const r = this.rng;
    if (temper === 'calm') return this.calm(scalar, name);
    if (temper === 'wild' && r.chance(0.3)) return r.pick(WRONG_TYPES);
    switch (scalar) {
      case 'ID':
        return r.pick([r.pick(this.ids.other), r.uuid(), r.pick(HOSTILE_STRINGS)]);
      case 'String':
        return r.chance(0.9) ? r.pick(HOSTILE_STRINGS) : r.pick(this.ids.other);
      case 'Int':
        return temper === 'edge' ? r.pick(EDGE_INTS) : r.pick(HOSTILE_INTS);
      case 'Float':
        return temper === 'edge' ? r.pick(EDGE_FLOATS) : r.pick(HOSTILE_FLOATS);
      case 'Boolean':
        return r.chance(0.5);
      case 'DateTimeISO':
        return r.pick(HOSTILE_DATES);
      case 'JSONObject':
        return r.pick(hostileObjects(r));
      default:
        throw new Error(`The fuzz knows no values of scalar ${scalar}: teach fuzz-cases.ts`);
    }
  }

  private calm(scalar: string, name: string): unknown {
    const r = this.rng;
    switch (scalar) {
      case 'ID':
        return idFor(this.ids.own, this.field, name);
      case 'String':
        return `${r.pick(PLAIN_STRINGS)} ${r.int(1_000)}`;
      case 'Int':
        return r.pick([1, 5, 20]);
      case 'Float':
        return r.pick([0.5, 1, 10]);
      case 'Boolean':
        return r.chance(0.5);
      case 'DateTimeISO':
        return new Date(Date.UTC(2026, 0, 1 + r.int(60))).toJSON();
      case 'JSONObject':
        return {};
      default:
        throw new Error(`The fuzz knows no values of scalar ${scalar}: teach fuzz-cases.ts`);
    }
  }
}

/** A GraphQL literal for a scalar or enum value (objects and lists stay variables). */
function literal(value: unknown, type: GraphQLInputType): string | undefined {
  const named = isNonNullType(type) ? type.ofType : type;
  if (value === null) return 'null';
  if (isEnumType(named) && typeof value === 'string' && /^[_A-Za-z]\w*$/.test(value)) {
    return value;
  }
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  return undefined;
}

/** Does the argument hold a list anywhere (for the 10k-item mode)? */
function holdsList(type: GraphQLInputType, depth = 0): boolean {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return true;
  if (!isInputObjectType(inner) || depth > 3) return false;
  return Object.values(inner.getFields()).some((f) => holdsList(f.type, depth + 1));
}

/** The value of `type` with a 10,000-item list at its first list. */
function withHugeList(type: GraphQLInputType, name: string, values: Values, depth = 0): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) {
    const item = values.of(inner.ofType, name, 'calm');
    return Array.from({ length: 10_000 }, () => item);
  }
  if (!isInputObjectType(inner)) return values.of(inner, name, 'calm');
  const value = values.of(inner, name, 'calm') as Record<string, unknown>;
  const field = Object.values(inner.getFields()).find((f) => holdsList(f.type, depth + 1))!;
  value[field.name] = withHugeList(field.type, field.name, values, depth + 1);
  return value;
}

/** One case of the field, in the mode the PRNG picks. */
function caseOf(
  schema: GraphQLSchema,
  root: RootKind,
  field: {
    name: string;
    args: readonly GraphQLArgument[];
    type: Parameters<typeof selectionSet>[1];
  },
  rng: Prng,
  values: Values,
  index: number,
): FuzzCase {
  const args = field.args;
  let mode = rng.pick(MODES);
  const required = args.filter(isRequired);
  if ((mode === 'missing' || mode === 'undeclared') && required.length === 0) mode = 'edge';
  const lists = args.filter((a) => holdsList(a.type));
  if (mode === 'huge' && lists.length === 0) mode = 'edge';
  if (args.length === 0) mode = 'chaos';
  const target =
    mode === 'missing' || mode === 'undeclared'
      ? rng.pick(required)
      : mode === 'huge'
        ? rng.pick(lists)
        : args.length
          ? rng.pick(args)
          : undefined;

  const variables: Record<string, unknown> = {};
  const declared: string[] = [];
  const passed: string[] = [];
  for (const arg of args) {
    const onTarget = arg === target;
    if (mode === 'missing' && onTarget) continue;
    // An own id is never a cursor or an event id: a calm `after` would refuse every case.
    if (!onTarget && arg.name === 'after' && mode !== 'chaos') continue;
    const give = isRequired(arg) || onTarget || rng.chance(mode === 'chaos' ? 0.6 : 0.2);
    if (!give) continue;
    let value: unknown;
    if (mode === 'chaos') value = values.of(arg.type, arg.name, 'wild');
    else if (!onTarget) value = values.of(arg.type, arg.name, 'calm');
    else if (mode === 'edge' || mode === 'literal') value = values.of(arg.type, arg.name, 'edge');
    else if (mode === 'null') value = null;
    else if (mode === 'wrongType') value = rng.pick(WRONG_TYPES);
    else if (mode === 'huge') value = withHugeList(arg.type, arg.name, values);
    const inline = mode === 'literal' && onTarget ? literal(value, arg.type) : undefined;
    if (inline !== undefined) {
      passed.push(`${arg.name}: ${inline}`);
      continue;
    }
    declared.push(`$${arg.name}: ${String(arg.type)}`);
    passed.push(`${arg.name}: $${arg.name}`);
    if (!(mode === 'undeclared' && onTarget)) variables[arg.name] = value;
  }
  // Arguments of nested fields (Agent.tasks(first), Entity.facts(...)): half of them get one
  // hostile value, as variables of the operation.
  const argsOf = (nested: GraphQLField<unknown, unknown>) => {
    if (!rng.chance(0.5)) return '';
    const edge = rng.pick(nested.args);
    const given: string[] = [];
    for (const arg of nested.args) {
      if (arg !== edge && !isRequired(arg)) continue;
      const name = `n${declared.length}`;
      variables[name] = values.of(arg.type, arg.name, arg === edge ? 'edge' : 'calm');
      declared.push(`$${name}: ${String(arg.type)}`);
      given.push(`${arg.name}: $${name}`);
    }
    return `(${given.join(', ')})`;
  };
  const selection = selectionSet(schema, field.type, rng.pick([1, 1, 2]), 1, argsOf);
  const vars = declared.length ? `(${declared.join(', ')})` : '';
  const call = passed.length ? `${field.name}(${passed.join(', ')})` : field.name;
  return {
    what: `${root}.${field.name}#${index} ${mode}${target ? `(${target.name})` : ''}`,
    query: `${root} Fuzz${vars} { ${call} ${selection} }`,
    variables,
  };
}

/** `perField` cases for every field of the `roots` (Query and Mutation), from `seed`. */
export function fuzzCases(
  schema: GraphQLSchema,
  ids: FuzzIds,
  seed: number,
  perField: number,
  roots: readonly RootKind[] = ['query', 'mutation'],
): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (const { root, field } of rootFields(schema)) {
    if (!roots.includes(root)) continue;
    const rng = new Prng(fieldSeed(seed, `${root}.${field.name}`));
    const values = new Values(rng, ids, field.name);
    for (let i = 0; i < perField; i++) cases.push(caseOf(schema, root, field, rng, values, i));
  }
  return cases;
}

/**
 * Why an answer breaks the promise (a 5xx, no JSON, an error without a code or with
 * INTERNAL_SERVER_ERROR, a stack frame or a source path in an error), or null.
 */
export function brokenPromise(status: number, text: string): string | null {
  if (status >= 500) return `HTTP ${status}`;
  let body: { errors?: { message?: unknown; extensions?: { code?: unknown } }[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return `HTTP ${status}, not JSON`;
  }
  for (const error of body.errors ?? []) {
    const code = error.extensions?.code;
    if (typeof code !== 'string') return `an error without extensions.code`;
    if (code === 'INTERNAL_SERVER_ERROR') return code;
    if (typeof error.message !== 'string' || !error.message.trim()) return 'an empty message';
    // A batch position glued to a sentence: "inputs[1].A message needs ..." (fixed in atPosition).
    if (/\]\.[A-Z]/.test(error.message)) return 'a garbled message';
    const shown = JSON.stringify(error);
    if (
      /\\n\s+at |\bat .+\(.*:\d+:\d+\)|file:\/\/|node:internal|\/(src|graph|node_modules)\//.test(
        shown,
      )
    ) {
      return `a stack trace or source path in an error`;
    }
  }
  return null;
}
