/**
 * The one error hierarchy. Each class carries the stable `extensions.code` that clients
 * branch on; anything that is not an AppError reaches clients as "Internal server error".
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
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

/** An id as an error repeats it: its start and its length when it is longer than ID_ECHO. */
export function echoedId(id: string): string {
  return id.length > ID_ECHO ? `${id.slice(0, ID_ECHO)}… (${id.length} characters)` : id;
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

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

export class LimitExceededError extends AppError {
  constructor(limit: string, message: string) {
    super('LIMIT_EXCEEDED', message, { limit });
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
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}
