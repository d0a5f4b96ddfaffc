import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { BadInputError } from './errors.js';

/**
 * The organisation export format: one tenant's nodes and relationships as JSON, defined once
 * here. Values are encoded so that export -> import -> export gives an identical document.
 */
export const ORGANISATION_FORMAT = 'agent-platform/organisation';
export const ORGANISATION_FORMAT_VERSION = 1;

/** Labels that belong to an organisation; the only labels ever spliced into Cypher for it. */
export const EXPORT_LABELS = [
  'Agent',
  'Capability',
  'Task',
  'Conversation',
  'Message',
  'Knowledge',
  'Run',
  'LLMCall',
  'Entity',
  'AgentVersion',
] as const;
export type ExportLabel = (typeof EXPORT_LABELS)[number];

/** Relationship types are spliced into Cypher, so nothing else gets through. */
export const RELATIONSHIP_TYPE = /^[A-Z][A-Z0-9_]*$/;
export const MAX_RELATIONSHIP_TYPE_LENGTH = 100;
export const MAX_ID_LENGTH = 200;
export const MAX_NODES = 50_000;
export const MAX_RELATIONSHIPS = 200_000;

export function isExportLabel(value: string): value is ExportLabel {
  return (EXPORT_LABELS as readonly string[]).includes(value);
}

export function isRelationshipType(value: string): boolean {
  return value.length <= MAX_RELATIONSHIP_TYPE_LENGTH && RELATIONSHIP_TYPE.test(value);
}

/** Neo4j FLOAT values that JSON cannot carry as numbers. */
export type NonFiniteFloat = 'NaN' | 'Infinity' | '-Infinity';

/**
 * One property value: strings, booleans and finite floats as JSON; INTEGER as {"$int": n};
 * ZONED DATETIME as {"$datetime": Neo4j's toString() text}; NaN and infinities as {"$float"}.
 */
export type EncodedScalar =
  string | boolean | number | { $int: number } | { $datetime: string } | { $float: NonFiniteFloat };
/** Lists are homogeneous, as Neo4j requires. */
export type EncodedValue = EncodedScalar | EncodedScalar[];
export type EncodedProperties = Record<string, EncodedValue>;

export type ScalarKind = 'string' | 'boolean' | 'float' | 'integer' | 'datetime';

/** The kind of an encoded scalar, or null when it is not one. */
export function scalarKind(value: unknown): ScalarKind | null {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isFinite(value) ? 'float' : null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  if (keys.length !== 1) return null;
  const v = (value as Record<string, unknown>)[keys[0]!];
  switch (keys[0]) {
    case '$int':
      return typeof v === 'number' && Number.isSafeInteger(v) ? 'integer' : null;
    case '$datetime':
      return typeof v === 'string' && parseDateTimeText(v) ? 'datetime' : null;
    case '$float':
      return v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? 'float' : null;
    default:
      return null;
  }
}

const VALUE_CONTRACT =
  'must be a string, a boolean, a finite number, {"$int": <safe integer>}, {"$datetime": "<ISO date-time with offset>"}, {"$float": "NaN"|"Infinity"|"-Infinity"} or a list of one of these';

/** Why `value` is not an EncodedValue, or null when it is one. */
export function encodedValueProblem(value: unknown): string | null {
  if (Array.isArray(value)) {
    const kinds = new Set<ScalarKind>();
    for (let i = 0; i < value.length; i++) {
      const kind = scalarKind(value[i]);
      if (!kind) return `[${i}] ${VALUE_CONTRACT}, but got ${preview(value[i])}`;
      kinds.add(kind);
    }
    return kinds.size > 1 ? `must be a list of one kind, but mixes ${[...kinds].join(', ')}` : null;
  }
  return scalarKind(value) ? null : `${VALUE_CONTRACT}, but got ${preview(value)}`;
}

const RESERVED_PROPERTIES = ['id', 'tenantId'];

const id = z.string().min(1).max(MAX_ID_LENGTH);
const encodedValue = z.custom<EncodedValue>().superRefine((value, ctx) => {
  const problem = encodedValueProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
});
const properties = z.record(z.string(), encodedValue).superRefine((props, ctx) => {
  for (const key of Object.keys(props)) {
    if (RESERVED_PROPERTIES.includes(key) || key.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `is not allowed: properties must not hold ${RESERVED_PROPERTIES.join(' or ')} (id is top-level, tenantId is applied on import) or an empty key`,
        input: props[key],
      });
    }
  }
});

const exportedNode = z.object({ label: z.enum(EXPORT_LABELS), id, properties }).strict();

const exportedRelationship = z
  .object({
    type: z
      .string()
      .max(MAX_RELATIONSHIP_TYPE_LENGTH)
      .regex(RELATIONSHIP_TYPE, { message: 'must match /^[A-Z][A-Z0-9_]*$/' }),
    from: id,
    to: id,
    properties,
  })
  .strict();

/** The whole document; parse it with parseOrganisationDocument for messages that say where. */
export const organisationDocumentSchema = z
  .object({
    format: z.literal(ORGANISATION_FORMAT),
    version: z.literal(ORGANISATION_FORMAT_VERSION),
    nodes: z.array(exportedNode).max(MAX_NODES),
    relationships: z.array(exportedRelationship).max(MAX_RELATIONSHIPS),
    /** Set by exportOrganisation; see organisationSignature. */
    signature: z.string().max(200).optional(),
  })
  .strict()
  .superRefine((doc, ctx) => {
    const seen = new Map<string, number>();
    doc.nodes.forEach((node, i) => {
      const first = seen.get(node.id);
      if (first === undefined) seen.set(node.id, i);
      else {
        ctx.addIssue({
          code: 'custom',
          path: ['nodes', i, 'id'],
          message: `must be unique, but "${node.id}" is also nodes[${first}].id`,
        });
      }
    });
  });

export type OrganisationDocument = z.infer<typeof organisationDocumentSchema>;
export type ExportedNode = OrganisationDocument['nodes'][number];
export type ExportedRelationship = OrganisationDocument['relationships'][number];

/**
 * Validates an import document. Throws BAD_USER_INPUT saying what is wrong and where, e.g.
 * `nodes[3].label must be one of Agent, Capability, ... but got "Foo"`; too many nodes or
 * relationships are refused before anything else is looked at (details.limit).
 */
export function parseOrganisationDocument(input: unknown): OrganisationDocument {
  const doc = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  for (const [field, max] of [
    ['nodes', MAX_NODES],
    ['relationships', MAX_RELATIONSHIPS],
  ] as const) {
    const list = doc[field];
    if (Array.isArray(list) && list.length > max) {
      throw new BadInputError(
        `${field} may hold at most ${max} items per document, but got ${list.length}: split the organisation or raise the limit`,
        { limit: field, max },
      );
    }
  }
  const result = organisationDocumentSchema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues;
  const shown = issues.slice(0, 3).map(describeIssue);
  const more = issues.length > 3 ? `; and ${issues.length - 3} more problem(s)` : '';
  throw new BadInputError(`The organisation document is invalid: ${shown.join('; ')}${more}`, {
    problems: issues.length,
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = pathText(issue.path);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_value':
      return issue.values.length === 1
        ? `${where} must be ${JSON.stringify(issue.values[0])}, but got ${preview(input)}`
        : `${where} must be one of ${issue.values.join(', ')}, but got ${preview(input)}`;
    case 'invalid_type':
      return input === undefined
        ? `${where} is missing (expected ${issue.expected})`
        : `${where} must be ${article(EXPECTED_NAMES[issue.expected] ?? issue.expected)}, but got ${preview(input)}`;
    case 'unrecognized_keys':
      return `${where} has unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'too_small':
      return `${where} must not be empty`;
    case 'too_big':
      return `${where} must be at most ${issue.maximum} ${issue.origin === 'string' ? 'characters' : 'items'}, but got ${preview(input)}`;
    case 'invalid_format':
      return `${where} ${issue.message}, but got ${preview(input)}`;
    default:
      return `${where} ${issue.message}`;
  }
}

/** ['nodes', 3, 'label'] -> nodes[3].label; odd keys are quoted: properties["a b"]. */
export function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'the document';
  return path
    .map((part, i) => {
      if (typeof part === 'number') return `[${part}]`;
      const key = String(part);
      if (/^[A-Za-z_$][\w$]*$/.test(key)) return i === 0 ? key : `.${key}`;
      return `[${JSON.stringify(key)}]`;
    })
    .join('');
}

const EXPECTED_NAMES: Record<string, string> = { array: 'list', record: 'object' };

function article(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // Too deeply nested to stringify (a hostile document): name its shape instead of a 500.
    text = Array.isArray(value) ? '[...]' : typeof value === 'object' ? '{...}' : String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The parts of a ZONED DATETIME, as Neo4j's toString() prints it. */
export interface DateTimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanosecond: number;
  /** Seconds east of UTC. */
  offsetSeconds: number;
  /** An IANA zone such as Europe/Paris, when the value carries one. */
  zoneId: string | null;
}

const DATE_TIME =
  /^([+-]?\d{4,9})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}(?::\d{2})?)(?:\[([A-Za-z0-9_+\-/]{1,64})\])?$/;

/**
 * Parses the text Neo4j's toString() gives a ZONED DATETIME, e.g.
 * "2024-05-01T10:20:30.123456789Z" or "2024-01-01T10:00:30+01:00[Europe/Paris]".
 * Returns null when the text is not such a value (wrong shape or impossible date).
 */
export function parseDateTimeText(text: string): DateTimeParts | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, offset, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const offsetSeconds = offset === 'Z' ? 0 : parseOffset(offset!);
  if (Math.abs(offsetSeconds) > 18 * 3600) return null;
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    nanosecond: frac === undefined ? 0 : Number(frac.padEnd(9, '0')),
    offsetSeconds,
    zoneId: zone ?? null,
  };
}

function parseOffset(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  const [h, m, s] = text.slice(1).split(':').map(Number);
  if (m! > 59 || (s ?? 0) > 59) return Number.POSITIVE_INFINITY;
  return sign * (h! * 3600 + m! * 60 + (s ?? 0));
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Code-unit order, the same on every machine (localeCompare is not). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The same properties with keys in code-unit order, so their JSON is deterministic. */
export function sortedProperties(props: EncodedProperties): EncodedProperties {
  const out: EncodedProperties = {};
  for (const key of Object.keys(props).sort(compareText)) out[key] = props[key]!;
  return out;
}

/** Builds a document in the canonical order: nodes by label then id; relationships by type, from, to, then properties' JSON. */
export function canonicalDocument(
  nodes: ExportedNode[],
  relationships: ExportedRelationship[],
): OrganisationDocument {
  const sortedNodes = nodes
    .map((n) => ({ label: n.label, id: n.id, properties: sortedProperties(n.properties) }))
    .sort((a, b) => compareText(a.label, b.label) || compareText(a.id, b.id));
  const keyed = relationships.map((r) => {
    const properties = sortedProperties(r.properties);
    return {
      rel: { type: r.type, from: r.from, to: r.to, properties },
      json: JSON.stringify(properties),
    };
  });
  keyed.sort(
    (a, b) =>
      compareText(a.rel.type, b.rel.type) ||
      compareText(a.rel.from, b.rel.from) ||
      compareText(a.rel.to, b.rel.to) ||
      compareText(a.json, b.json),
  );
  return {
    format: ORGANISATION_FORMAT,
    version: ORGANISATION_FORMAT_VERSION,
    nodes: sortedNodes,
    relationships: keyed.map((k) => k.rel),
  };
}

/**
 * Signs the node ids of a document for one organisation, with a secret no client knows: an
 * import keeps the ids of a document its own organisation exported, and re-mints every other id
 * that is not already this organisation's, whether it is free or another organisation's, so an
 * import cannot tell the two apart (issue 9). Covers labels and ids only: properties may be
 * edited between export and import (they are validated on import either way).
 */
export function organisationSignature(
  secret: string,
  tenantId: string,
  nodes: readonly { label: string; id: string }[],
): string {
  const key = createHmac('sha256', secret).update(`organisation:${tenantId}`).digest();
  const ids = nodes
    .map((n) => [n.label, n.id])
    .sort((a, b) => compareText(a.join('\n'), b.join('\n')));
  return createHmac('sha256', key).update(JSON.stringify(ids)).digest('base64url');
}

/** True when `signature` is this organisation's signature of these nodes. */
export function isSignedBy(
  secret: string,
  tenantId: string,
  doc: { nodes: readonly { label: string; id: string }[]; signature?: string },
): boolean {
  if (!doc.signature) return false;
  const expected = Buffer.from(organisationSignature(secret, tenantId, doc.nodes));
  const given = Buffer.from(doc.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
