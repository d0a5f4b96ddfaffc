import { escapeControls } from './controls.js';

/**
 * The one error hierarchy. Each class carries the stable `extensions.code` that clients
 * branch on; anything that is not an AppError reaches clients as "Internal server error".
 * The message is one line of plain text: control characters in it, wherever a value a client
 * sent is repeated, are escaped here, once for every transport (GraphQL, MCP, A2A, logs).
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(escapeControls(message));
    this.name = new.target.name;
  }
}

export class BadInputError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('BAD_USER_INPUT', message, details);
  }
}

/** How much of an id an error repeats: a 200 KB "id" is not sent back twice. */
const ID_ECHO = 100;

/**
 * An id (or any value a client sent) as an error repeats it: its start and its length when it
 * is longer than ID_ECHO, control characters escaped (for `details` and span names too).
 */
export function echoedId(id: string): string {
  const shown = escapeControls(id.length > ID_ECHO ? id.slice(0, ID_ECHO) : id);
  return id.length > ID_ECHO ? `${shown}… (${id.length} characters)` : shown;
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    const shown = echoedId(id);
    super('NOT_FOUND', `${what} "${shown}" does not exist`, { id: shown });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFLICT', message, details);
  }
}

/**
 * CONFLICT for a value that must be unique and is taken, e.g. 'An agent named "Ada" already
 * exists: choose another name'. `label` is the node's label; `values` the properties taken.
 */
export function alreadyExists(label: string, values: Record<string, string>): ConflictError {
  const what = label.replace(/(?<=[a-z])(?=[A-Z])/g, ' ').toLowerCase();
  const a = /^[aeiou]/.test(what) ? 'An' : 'A';
  const fields = Object.keys(values);
  const shown = (k: string) => `"${echoedId(values[k] ?? '')}"`;
  if (fields.length === 1 && fields[0] === 'name')
    return new ConflictError(
      `${a} ${what} named ${shown('name')} already exists: choose another name`,
      {
        field: 'name',
      },
    );
  const props = fields.map((k) => `${k} ${shown(k)}`).join(', ');
  const fix = fields.length === 1 ? `choose another ${fields[0]}` : `choose other values`;
  return new ConflictError(
    `${a} ${what} with ${props} already exists: ${fix}`,
    fields.length === 1 ? { field: fields[0] } : {},
  );
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

export class LimitExceededError extends AppError {
  constructor(limit: string, message: string, details: Record<string, unknown> = {}) {
    super('LIMIT_EXCEEDED', message, { ...details, limit });
  }
}

/** The backing service (Neo4j) cannot be reached: retrying later may succeed. */
export class UnavailableError extends AppError {
  constructor(message: string, details: { retryAfterSeconds?: number } = {}) {
    super('SERVICE_UNAVAILABLE', message, details);
  }
}

/** No valid credentials: missing, unknown or revoked API key. */
export class UnauthenticatedError extends AppError {
  constructor(
    message: string,
    /** Whether a Bearer key was sent (and is no key); false: none, or another scheme's. */
    readonly keySent = true,
  ) {
    super('UNAUTHENTICATED', message);
  }
}
