import { AppError, echoedId } from '../src/domain/errors.js';

/**
 * Every published event has an id, `<ms>-<seq>`: the shape of a Redis stream id. Ids of one
 * tenant's stream only grow, so a client that kept the last id it received can resume after it
 * (a subscription's `after` argument). Clients see it as `extensions.eventId` on each result.
 */
export type EventId = string;

const EVENT_ID = Symbol('eventId');
const PUBLISHED_AT = Symbol('publishedAt');

/**
 * The payload as delivered: a shallow copy carrying its id and the epoch milliseconds of its
 * publication (not enumerable: never serialised). A Redis stream id begins with them; an
 * in-process id begins with the bus's start instead, so that bus passes them.
 */
export function withEventId<T>(
  payload: T,
  id: EventId,
  publishedAt = parseEventId(id)?.[0] ?? Date.now(),
): T {
  if (typeof payload !== 'object' || payload === null) return payload;
  const copy = Array.isArray(payload) ? [...payload] : { ...payload };
  Object.defineProperty(copy, EVENT_ID, { value: id, enumerable: false });
  markPublishedAt(copy, publishedAt);
  return copy as T;
}

/** When the event a payload or a result came from was published (epoch ms), if known. */
export function publishedAtOf(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as { [PUBLISHED_AT]?: number })[PUBLISHED_AT];
}

/** Stamps a result with its event's publication time, for the delivery-lag metric. */
export function markPublishedAt(value: object, publishedAt: number | undefined): void {
  if (publishedAt !== undefined) {
    Object.defineProperty(value, PUBLISHED_AT, { value: publishedAt, enumerable: false });
  }
}

export function eventIdOf(payload: unknown): EventId | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  return (payload as { [EVENT_ID]?: EventId })[EVENT_ID];
}

/** `[ms, seq]`, or null when `id` is not an event id. */
export function parseEventId(id: string): [number, number] | null {
  const match = /^(\d{1,15})-(\d{1,15})$/.exec(id);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

/** Negative, zero or positive as `a` is before, the same as or after `b` (both valid ids). */
export function compareEventIds(a: EventId, b: EventId): number {
  const [am, as] = parseEventId(a) ?? [0, 0];
  const [bm, bs] = parseEventId(b) ?? [0, 0];
  return am - bm || as - bs;
}

/**
 * A subscription's `after` names an event the server no longer holds (trimmed from the
 * stream, or from before this server started): what the client missed cannot be replayed.
 */
export class EventTooOldError extends AppError {
  readonly extensions: Record<string, unknown>;

  constructor(after: EventId) {
    super(
      'EVENT_TOO_OLD',
      `Cannot resume after event "${after}": the events after it are no longer kept. Query the current state again, then subscribe without "after" (or after the newest eventId you receive from then on)`,
      { after },
    );
    // graphql-js copies an original error's `extensions` into the GraphQLError it wraps it in.
    this.extensions = { ...this.details, code: this.code };
  }
}

/**
 * `after` is ahead of the newest event of its stream: no result carried it (made up, or from
 * another bus). It was refused as no longer kept, or taken as if nothing had been missed.
 */
export class EventAheadError extends AppError {
  readonly extensions: Record<string, unknown>;

  constructor(after: EventId) {
    super(
      'BAD_USER_INPUT',
      `Cannot resume after event "${after}": it is ahead of the newest event, so no result of this server carried it. Pass the extensions.eventId of the last result you received, or subscribe without "after"`,
      { after },
    );
    this.extensions = { ...this.details, code: this.code };
  }
}

/**
 * Whether an id names a moment past now on any clock in reach (a minute of skew allowed), for a
 * bus that cannot tell its newest id (no stream yet).
 */
export function isFutureEventId(id: EventId, now = Date.now()): boolean {
  const parsed = parseEventId(id);
  return parsed !== null && parsed[0] > now + 60_000;
}

/** `after` is not an event id at all. */
export class BadEventIdError extends AppError {
  readonly extensions: Record<string, unknown>;

  constructor(after: string) {
    const shown = echoedId(after);
    super(
      'BAD_USER_INPUT',
      `"${shown}" is not an event id: pass the extensions.eventId of a result this server sent`,
      { after: shown },
    );
    this.extensions = { ...this.details, code: this.code };
  }
}

/** The event bus cannot be reached now: subscribe again (with `after`) once it is back. */
export class EventBusUnavailableError extends AppError {
  readonly extensions: Record<string, unknown>;

  constructor(detail: string) {
    super(
      'SERVICE_UNAVAILABLE',
      `Live events are unavailable: ${detail}. Subscribe again in a few seconds with "after" set to the last eventId you received`,
      { retryAfterSeconds: 1 },
    );
    this.extensions = { ...this.details, code: this.code };
  }
}
