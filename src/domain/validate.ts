import { NOT_IN_NAMES } from './controls.js';
import { BadInputError } from './errors.js';

/** Input size limits: large enough for real use, small enough that no field can flood the graph. */
export const LIMITS = {
  name: 100,
  title: 200,
  description: 10_000,
  systemPrompt: 20_000,
  content: 20_000,
  result: 100_000,
  model: 200,
  tag: 50,
  tags: 20,
  capabilities: 50,
  recipients: 100,
  dependencies: 100,
  batch: 100,
  search: 500,
  /** A decision's reason or note: a model reads a rejection's in its prompt. */
  reason: 10_000,
  /** An outside server's or agent's URL: what browsers and most servers take. */
  url: 2_048,
} as const;

/**
 * Trims and checks a required text field. Throws BAD_USER_INPUT stating the contract and what
 * was received, e.g. "name must be 1 to 100 characters, but got 0".
 */
export function requiredText(field: string, value: string, max: number): string {
  const text = value.trim();
  if (text.length === 0 || text.length > max) {
    throw new BadInputError(`${field} must be 1 to ${max} characters, but got ${text.length}`, {
      field,
    });
  }
  return text;
}

export { NOT_IN_NAMES } from './controls.js';

/**
 * Throws BAD_USER_INPUT when a name (something people read in lists: an agent's, a title, a
 * tag) holds a character of NOT_IN_NAMES, naming its code point and index. Free text (content,
 * descriptions, results) keeps them.
 */
export function plainName(field: string, name: string): string {
  const found = NOT_IN_NAMES.exec(name);
  if (found) {
    const code = found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new BadInputError(
      `${field} must not contain control or text-direction characters, but has U+${code} at ${found.index}`,
      { field },
    );
  }
  return name;
}

/**
 * A name made of text nobody typed for it (a model's plan, a message's first line): what
 * plainName refuses becomes a space, runs of white space one, ends trimmed.
 */
export function cleanName(text: string): string {
  return text.replace(new RegExp(NOT_IN_NAMES.source, 'g'), ' ').replace(/\s+/g, ' ').trim();
}

/** requiredText for a name: also refuses what plainName refuses. */
export function requiredName(field: string, value: string, max: number): string {
  return plainName(field, requiredText(field, value, max));
}

/** optionalText for a name: also refuses what plainName refuses. */
export function optionalName(
  field: string,
  value: string | null | undefined,
  max: number,
): string | null | undefined {
  const text = optionalText(field, value, max);
  return text ? plainName(field, text) : text;
}

/** Like requiredText, for an optional field: null/undefined stay as they are, "" becomes null. */
export function optionalText(
  field: string,
  value: string | null | undefined,
  max: number,
): string | null | undefined {
  if (value === undefined || value === null) return value;
  const text = value.trim();
  if (text.length > max) {
    throw new BadInputError(`${field} must be at most ${max} characters, but got ${text.length}`, {
      field,
    });
  }
  return text.length === 0 ? null : text;
}

/**
 * The reason of a rejection (rejectPlan, rejectTask, resolveToolCall's REJECT), trimmed: 1 to
 * LIMITS.reason characters, since someone reads it (the Chief of Staff, the step's agent). An
 * optional one may be left out (null), never blank. Throws BAD_USER_INPUT saying what to fix.
 */
export function rejectionReason(value: string, required: true): string;
export function rejectionReason(value: string | null | undefined, required: false): string | null;
export function rejectionReason(
  value: string | null | undefined,
  required: boolean,
): string | null {
  if (value == null && !required) return null;
  const text = (value ?? '').trim();
  if (text.length === 0 || text.length > LIMITS.reason) {
    const fix =
      text.length > 0 ? 'shorten it' : required ? 'say why' : 'say why, or leave reason out';
    throw new BadInputError(
      `reason must be 1 to ${LIMITS.reason} characters, but got ${text.length}: ${fix}`,
      { field: 'reason' },
    );
  }
  return text;
}

export function numberInRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new BadInputError(`${field} must be between ${min} and ${max}, but got ${value}`, {
      field,
    });
  }
  return value;
}

export function listOfAtMost<T>(field: string, values: readonly T[], max: number): T[] {
  if (values.length > max) {
    throw new BadInputError(`${field} may hold at most ${max} items, but got ${values.length}`, {
      field,
    });
  }
  return [...values];
}

/** Ids are UUIDs: anything else cannot name a node, so it is refused before any query. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isId(value: string): boolean {
  return UUID.test(value);
}

/** Names of capabilities and tags: trimmed, case kept, no duplicates. */
export function distinctNames(field: string, values: readonly string[], max: number, each: number) {
  const names = [...new Set(values.map((v) => requiredName(field, v, each)))];
  return listOfAtMost(field, names, max);
}

/**
 * Runs a batch item's validation, prefixing its messages with the position, e.g. "agents[2].":
 * "agents[2].name must be ..." for a field's message, "agents[2]: A ..." for a sentence.
 */
export function atPosition<T>(prefix: string, build: () => T): T {
  if (!prefix) return build();
  try {
    return build();
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
    // A sentence starts upper-case: glued to the prefix it read "inputs[1].A message needs ...".
    const at = /^[A-Z]/.test(err.message) ? `${prefix.replace(/\.$/, '')}: ` : prefix;
    throw new BadInputError(at + err.message, err.details);
  }
}
