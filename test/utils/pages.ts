import type { Cursor, Page } from '../../src/domain/page.js';
import { decodeCursor } from '../../src/domain/page.js';

/** Every row of a list, read a page at a time through its cursors (at most `pages` pages). */
export async function pageThrough<T>(
  read: (after: Cursor | undefined) => Promise<Page<T>>,
  pages = 10,
): Promise<T[]> {
  const rows: T[] = [];
  let after: Cursor | undefined;
  for (let i = 0; i < pages; i++) {
    const page = await read(after);
    rows.push(...page.items.map((item) => item.node));
    if (!page.hasNextPage) break;
    after = decodeCursor(page.items.at(-1)!.cursor);
  }
  return rows;
}
