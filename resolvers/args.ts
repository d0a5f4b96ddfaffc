import type { Sort } from '../src/domain/page.js';

const PROPERTIES = {
  CREATED: 'createdAt',
  UPDATED: 'updatedAt',
  NAME: 'name',
  TITLE: 'title',
} as const;

/** Maps a list-order enum value such as CREATED_DESC to the repository's sort. */
export function orderToSort(order: string): Sort {
  const [field, direction] = order.split('_') as [keyof typeof PROPERTIES, string];
  return { property: PROPERTIES[field], descending: direction === 'DESC' };
}

type NoNulls<T> = { [K in keyof T]?: Exclude<T[K], null> };

/** GraphQL sends null for omitted input fields; the services take undefined. */
export function withoutNulls<T extends object>(input: T | null | undefined): NoNulls<T> {
  return Object.fromEntries(
    Object.entries(input ?? {}).filter(([, value]) => value !== null && value !== undefined),
  ) as NoNulls<T>;
}

/** The `after` argument of every subscription (resuming; subscriptions/event-id.ts). */
export const RESUME_AFTER =
  'Resume: first the events you missed after this one (the extensions.eventId of the last result you received), then live ones, with none missing or repeated. EVENT_TOO_OLD when they are no longer kept: query the state again and subscribe without it. BAD_USER_INPUT for an id ahead of the newest event.';
