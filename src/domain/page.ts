import { BadInputError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Where a page starts: after the row with this sort value and id (keyset pagination). */
export interface Cursor {
  value: string;
  id: string;
}

export interface PageRequest {
  first: number;
  after?: Cursor;
}

export interface Page<T> {
  items: { node: T; cursor: string }[];
  hasNextPage: boolean;
  totalCount: number;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.value, cursor.id])).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  try {
    const [value, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof value === 'string' && typeof id === 'string') return { value, id };
  } catch {
    // fall through to the error below
  }
  throw new BadInputError(
    `after must be a cursor returned by this API (pageInfo.endCursor), but got "${text.slice(0, 40)}"`,
    { field: 'after' },
  );
}

/** Checks a page size. Throws e.g. "first must be between 1 and 100, but got 500". */
export function pageSize(first: number | null | undefined, fallback = DEFAULT_PAGE_SIZE): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new BadInputError(`first must be between 1 and ${MAX_PAGE_SIZE}, but got ${size}`, {
      field: 'first',
    });
  }
  return size;
}

/** Validates first/after for a connection. */
export function pageRequest(first?: number | null, after?: string | null): PageRequest {
  return { first: pageSize(first), after: after ? decodeCursor(after) : undefined };
}

/** Properties a list may sort on. */
export type SortProperty = 'createdAt' | 'updatedAt' | 'name' | 'title';

export interface Sort {
  property: SortProperty;
  descending: boolean;
}
