import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BadInputError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Where a page starts: after the row with this sort value and id (keyset pagination). */
export interface Cursor {
  value: string;
  id: string;
  /** The signature the cursor came with; checked against its list by checkCursor. */
  mac?: string;
}

export interface PageRequest {
  first: number;
  after?: Cursor;
  /** Whether to count every matching row too: a second read, made only when asked for. */
  total: boolean;
}

/** A list's arguments as a client gives them (PageArgs), and whether it asked for totalCount. */
export interface PageInput {
  first?: number | null;
  after?: string | null;
  /** Default true: callers that cannot tell what the client selected pay for the count. */
  total?: boolean;
}

export interface Page<T> {
  items: { node: T; cursor: string }[];
  hasNextPage: boolean;
  /** All matching rows; absent when the request did not ask for it (PageRequest.total). */
  totalCount?: number;
}

// Cursors are signed so that a client can only hand back a position the API gave it. The key is
// set at start-up (useCursorSecret: CURSOR_SECRET, or the secret kept in the graph, shared by
// every API instance); until then a random per-process key stands in.
let cursorKey: Buffer = randomBytes(32);

/** Sets the key that signs and checks cursors (the same on every API instance of one graph). */
export function useCursorSecret(secret: string): void {
  cursorKey = createHmac('sha256', secret).update('cursor').digest();
}

function mac(list: string, value: string, id: string): string {
  return createHmac('sha256', cursorKey)
    .update(JSON.stringify([list, value, id]))
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/**
 * An opaque cursor for the row (value, id) of `list` (e.g. "Task.createdAt.ASC", with its
 * filter: graph/page.ts listKey): signed, so it is valid only for that list, filter and order,
 * and only as the API wrote it.
 */
export function encodeCursor(cursor: Cursor, list: string): string {
  const sig = mac(list, cursor.value, cursor.id);
  return Buffer.from(JSON.stringify([cursor.value, cursor.id, sig])).toString('base64url');
}

/** The list name of Conversation.messages cursors (which carry the message's seq). */
export const CONVERSATION_MESSAGES = 'Conversation.messages';

const NOT_OURS =
  'after is not a cursor of this list with this filter and order (forged, altered, or from another list or filter); pass pageInfo.endCursor of a previous page of the same list, filter and order';

/** Reads a cursor's shape (not yet its signature: see checkCursor). Throws BAD_USER_INPUT. */
export function decodeCursor(text: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(parsed) &&
      parsed.length === 3 &&
      parsed.every((p) => typeof p === 'string')
    ) {
      const [value, id, sig] = parsed as string[];
      return { value: value!, id: id!, mac: sig };
    }
  } catch {
    // fall through to the error below
  }
  throw new BadInputError(`${NOT_OURS}, but got "${text.slice(0, 40)}"`, { field: 'after' });
}

/** Throws BAD_USER_INPUT unless the API signed this cursor for `list`. */
export function checkCursor(cursor: Cursor, list: string): Cursor {
  const expected = Buffer.from(mac(list, cursor.value, cursor.id));
  const given = Buffer.from(cursor.mac ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new BadInputError(NOT_OURS, { field: 'after' });
  }
  return cursor;
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

/**
 * Validates first/after for a connection. An empty `after` is refused: read as no cursor, a
 * client sending `endCursor ?? ""` got the first page again and paged for ever.
 */
export function pageRequest({ first, after, total = true }: PageInput = {}): PageRequest {
  if (after === '') {
    throw new BadInputError(
      'after is empty: leave it out (or null) for the first page, or pass pageInfo.endCursor of the page before',
      { field: 'after' },
    );
  }
  return { first: pageSize(first), after: after == null ? undefined : decodeCursor(after), total };
}

/** Properties a list may sort on. */
export type SortProperty = 'createdAt' | 'updatedAt' | 'name' | 'title';

export interface Sort {
  property: SortProperty;
  descending: boolean;
}
