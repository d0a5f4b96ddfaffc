/**
 * Fills a JSON schema (as LangChain derives it from a zod schema) with a value that validates,
 * drawn deterministically from text: strings from the input's sentences, numbers small, enums
 * their first value (or the one a hint names), arrays 1 to 3 items, optional fields left out
 * unless a hint gives them. Hints steer fields by name: `title`, `instructions`, `dependsOn`...
 * (see canonicalField for the names each hint answers to).
 */

export type JsonSchema = { [key: string]: unknown };

export interface FillHints {
  /** Text for strings without a hint, used in turn. */
  sentences: string[];
  /** Values by canonical field name, anywhere in the schema. */
  fields?: Record<string, unknown>;
  /**
   * One record per item for the first array whose items are objects with a field a record
   * names (a plan's steps, extracted facts). A record's `dependsOn` holds indexes of earlier
   * records; it becomes their keys (or titles) for string items, the indexes for numbers.
   */
  records?: Array<Record<string, unknown>>;
}

/** Hint names and the field names that answer to them (compared lower-case, letters only). */
const SYNONYMS: Record<string, string[]> = {
  key: ['key', 'id', 'stepkey', 'ref', 'slug'],
  title: ['title', 'name', 'step', 'steptitle', 'heading', 'subject'],
  instructions: ['instructions', 'instruction', 'description', 'details', 'prompt', 'goal'],
  capability: ['capability', 'capabilities', 'skill', 'skills', 'requiredcapability'],
  dependsOn: ['dependson', 'dependencies', 'deps', 'after', 'prerequisites'],
  output: ['output', 'expectedoutput', 'deliverable', 'outcome'],
  condition: ['condition', 'when', 'runif'],
  content: ['content', 'text', 'fact', 'statement', 'lesson', 'knowledge', 'body'],
  kind: ['kind', 'type', 'category'],
  confidence: ['confidence', 'certainty', 'probability'],
  entities: ['entities', 'mentions', 'entitynames'],
  summary: ['summary', 'answer', 'finalanswer', 'report', 'reply', 'response', 'result'],
  success: ['success', 'passed', 'pass', 'ok', 'approved', 'accepted', 'complete', 'completed'],
  score: ['score', 'rating', 'quality', 'grade'],
  feedback: ['feedback', 'reason', 'reasoning', 'rationale', 'critique', 'comment', 'notes'],
  query: ['query', 'search', 'q', 'searchquery', 'keywords'],
  question: ['question', 'message', 'ask'],
};

const CANONICAL = new Map(
  Object.entries(SYNONYMS).flatMap(([hint, names]) => names.map((name) => [name, hint] as const)),
);

/** The hint a field name answers to: `depends_on` -> `dependsOn`; unknown names map to themselves. */
export function canonicalField(name: string): string {
  const plain = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return CANONICAL.get(plain) ?? plain;
}

/** A value that validates against `schema`, or a best effort where a `pattern` cannot be met. */
export function fillSchema(schema: JsonSchema, hints: FillHints): unknown {
  return new Filler(schema, hints).fill(schema, undefined);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const FORMATS: Record<string, string> = {
  'date-time': '1970-01-01T00:00:00.000Z',
  date: '1970-01-01',
  time: '00:00:00',
  email: 'offline@example.com',
  uri: 'https://example.com/offline',
  url: 'https://example.com/offline',
  ipv4: '127.0.0.1',
  uuid: '00000000-0000-4000-8000-000000000000',
};

class Filler {
  private cursor = 0;
  private recordsUsed = false;

  constructor(
    private readonly root: JsonSchema,
    private readonly hints: FillHints,
  ) {}

  /** Follows `$ref`s into `$defs`/`definitions` and merges `allOf`. */
  private resolve(schema: JsonSchema): JsonSchema {
    let s = schema;
    for (let hops = 0; typeof s.$ref === 'string' && hops < 20; hops++) {
      const path = s.$ref.replace(/^#\/?/, '').split('/').filter(Boolean);
      let target: unknown = this.root;
      for (const part of path) target = isObject(target) ? target[part] : undefined;
      const { $ref: _ref, ...rest } = s;
      s = { ...(isObject(target) ? target : {}), ...rest };
    }
    if (Array.isArray(s.allOf)) {
      const { allOf, ...rest } = s;
      s = (allOf as JsonSchema[]).reduce<JsonSchema>((merged, part) => {
        const r = this.resolve(part);
        return {
          ...merged,
          ...r,
          properties: { ...(merged.properties as object), ...(r.properties as object) },
          required: [...((merged.required as string[]) ?? []), ...((r.required as string[]) ?? [])],
        };
      }, rest);
    }
    return s;
  }

  fill(schema: JsonSchema, hint: unknown): unknown {
    const s = this.resolve(schema);
    if ('const' in s) return s.const;
    if (Array.isArray(s.enum)) return pickEnum(s.enum, hint);
    const variants = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
    if (Array.isArray(variants)) {
      const options = variants.map((v) => this.resolve(v));
      if (hint === null && options.some(allowsNull)) return null;
      const chosen = options.find((o) => !isNullOnly(o) && fits(o, hint)) ??
        options.find((o) => !isNullOnly(o)) ?? { type: 'null' };
      return this.fill(chosen, hint);
    }
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type];
    if (hint === null && types.includes('null')) return null;
    const type =
      types.find((t) => typeof t === 'string' && t !== 'null') ??
      (s.properties ? 'object' : s.items ? 'array' : types.includes('null') ? 'null' : 'string');
    switch (type) {
      case 'object':
        return this.fillObject(s, isObject(hint) ? hint : undefined);
      case 'array':
        return this.fillArray(s, hint);
      case 'integer':
      case 'number':
        return fillNumber(s, hint, type === 'integer');
      case 'boolean':
        // false unless a hint says otherwise: an unknown flag (requiresApproval...) stays off.
        return typeof hint === 'boolean' ? hint : false;
      case 'null':
        return null;
      default:
        return this.fillString(s, hint);
    }
  }

  private fillObject(s: JsonSchema, record: Record<string, unknown> | undefined): unknown {
    const required = new Set((s.required as string[] | undefined) ?? []);
    const out: Record<string, unknown> = {};
    for (const [name, prop] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
      const hint = this.hintFor(canonicalField(name), record);
      // Optional fields appear only with a hint, as a careful model leaves out what it
      // does not know; a null hint means "leave out" (or null when required and nullable).
      if (!required.has(name) && (hint === undefined || hint === null)) continue;
      out[name] = this.fill(prop, hint);
    }
    return out;
  }

  private hintFor(field: string, record: Record<string, unknown> | undefined): unknown {
    if (record && field in record) return record[field];
    return this.hints.fields?.[field];
  }

  private fillArray(s: JsonSchema, hint: unknown): unknown[] {
    const items = this.resolve(isObject(s.items) ? s.items : {});
    const min = typeof s.minItems === 'number' ? s.minItems : 0;
    const max = typeof s.maxItems === 'number' ? s.maxItems : Infinity;
    let values: unknown[];
    if (Array.isArray(hint)) values = hint.map((h) => this.fill(items, h));
    else if (hint !== undefined && hint !== null) values = [this.fill(items, hint)];
    else if (this.takesRecords(items)) {
      this.recordsUsed = true;
      values = withRefs(this.hints.records!, items).map((r) => this.fill(items, r));
    } else {
      const n = Math.min(3, Math.max(1, this.hints.sentences.length));
      values = Array.from({ length: n }, () => this.fill(items, undefined));
    }
    values = values.slice(0, max);
    while (values.length < min) values.push(this.fill(items, undefined));
    return values;
  }

  private takesRecords(items: JsonSchema): boolean {
    const records = this.hints.records;
    if (this.recordsUsed || !records?.length || !isObject(items.properties)) return false;
    const fields = Object.keys(items.properties).map(canonicalField);
    return fields.some((f) => f !== 'key' && records.some((r) => f in r));
  }

  private fillString(s: JsonSchema, hint: unknown): string {
    if (typeof s.format === 'string' && s.format in FORMATS) return FORMATS[s.format]!;
    // A hint of '' is meant (a version proposal that changes nothing): kept where it validates.
    if (hint === '' && !((s.minLength as number) > 0) && typeof s.pattern !== 'string') return '';
    const text =
      typeof hint === 'string'
        ? hint
        : typeof hint === 'number' || typeof hint === 'boolean'
          ? String(hint)
          : isObject(hint) && typeof hint.title === 'string'
            ? hint.title
            : Array.isArray(hint)
              ? hint.join(', ')
              : this.nextSentence();
    const fitted = fitLength(text, s);
    if (typeof s.pattern !== 'string') return fitted;
    const candidates = [fitted, slug(fitted), 'offline', 'a', '0'];
    return candidates.find((c) => matches(s.pattern as string, c)) ?? fitted;
  }

  private nextSentence(): string {
    const { sentences } = this.hints;
    if (sentences.length === 0) return 'offline';
    return sentences[this.cursor++ % sentences.length]!;
  }
}

function pickEnum(values: unknown[], hint: unknown): unknown {
  const wanted = (Array.isArray(hint) ? hint : [hint]).filter((h) => typeof h === 'string');
  for (const w of wanted as string[]) {
    const lower = w.toLowerCase();
    const hit =
      values.find((v) => String(v).toLowerCase() === lower) ??
      values.find((v) => String(v).toLowerCase().includes(lower)) ??
      values.find((v) => lower.includes(String(v).toLowerCase()));
    if (hit !== undefined) return hit;
  }
  return values.find((v) => typeof hint === typeof v && v === hint) ?? values[0];
}

function fillNumber(s: JsonSchema, hint: unknown, integer: boolean): number {
  const num = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined);
  const step = integer ? 1 : 0.01;
  const lo = num('minimum') ?? (num('exclusiveMinimum') ?? -Infinity) + step;
  const hi = num('maximum') ?? (num('exclusiveMaximum') ?? Infinity) - step;
  // Small by default; 0.8 for fractions in [0, 1] (confidence, score).
  const base = typeof hint === 'number' ? hint : !integer && lo >= 0 && hi <= 1 ? 0.8 : 1;
  let v = Math.min(Math.max(base, lo), hi);
  if (integer) v = Math.min(Math.max(Math.round(v), Math.ceil(lo)), Math.floor(hi));
  const multiple = num('multipleOf');
  if (multiple) v = Math.ceil(v / multiple) * multiple;
  return v;
}

function fitLength(text: string, s: JsonSchema): string {
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : Infinity;
  let out = text.length > 0 ? text : 'offline';
  while (out.length < min) out = `${out} ${text || 'offline'}`;
  if (out.length > max) {
    const cut = out.slice(0, max);
    const space = cut.lastIndexOf(' ');
    out = space >= min && space > 0 ? cut.slice(0, space) : cut;
  }
  return out;
}

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

function matches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(text);
  } catch {
    return false;
  }
}

const allowsNull = (s: JsonSchema) =>
  s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null'));
const isNullOnly = (s: JsonSchema) => s.type === 'null';

/** Whether a hint's JavaScript type suits the schema's type (for choosing anyOf options). */
function fits(s: JsonSchema, hint: unknown): boolean {
  if (hint === undefined) return true;
  const types = (Array.isArray(s.type) ? s.type : [s.type]) as unknown[];
  if (Array.isArray(hint)) return types.includes('array');
  if (isObject(hint)) return types.includes('object');
  if (typeof hint === 'number') return types.includes('number') || types.includes('integer');
  return types.includes(typeof hint);
}

/** Records whose `dependsOn` indexes are turned into what the item schema asks for. */
function withRefs(
  records: Array<Record<string, unknown>>,
  items: JsonSchema,
): Array<Record<string, unknown>> {
  const props = (items.properties ?? {}) as Record<string, JsonSchema>;
  const names = Object.keys(props);
  const dep = names.find((n) => canonicalField(n) === 'dependsOn');
  const depItems = dep && isObject(props[dep]?.items) ? (props[dep].items as JsonSchema) : {};
  const numeric = depItems.type === 'integer' || depItems.type === 'number';
  const byKey = names.some((n) => canonicalField(n) === 'key');
  return records.map((r) => {
    if (!Array.isArray(r.dependsOn)) return r;
    const refs = (r.dependsOn as number[]).map((i) =>
      numeric ? i : byKey ? records[i]?.key : records[i]?.title,
    );
    return { ...r, dependsOn: refs };
  });
}
