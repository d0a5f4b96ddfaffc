import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedDocumentString } from './gql/graphql';
import { useMutation, useQuery } from './hooks';

/** A page of one of the API's connections, as a paged query selects it. */
export interface Connection<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

interface Rows<T> {
  /** The variables (JSON) the rows were read with. */
  key: string;
  /** The list they belong to (`same`), for a refresh to keep them until its first page. */
  list?: string;
  rows: T[];
  /** The cursor of the next page, or null once every row is shown. */
  next: string | null;
  /** Whether pages past the first are shown. */
  more: boolean;
}

const cursorOf = (page: Connection<unknown>) =>
  page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? null) : null;

/** The row in place, merged (fields only a page selects stay), or added at the end. */
function upserted<T extends { id: string }>(rows: T[], row: T): T[] {
  const i = rows.findIndex((r) => r.id === row.id);
  if (i < 0) return [...rows, row];
  const next = rows.slice();
  next[i] = { ...rows[i]!, ...row };
  return next;
}

/**
 * The first page read again for the same variables (a reload, a live change): it stands for
 * the rows it covers, up to its last; the later pages already shown stay after it. When its
 * last row is not among those shown (the list changed beyond one page), the list starts again.
 */
function withFirst<T extends { id: string }>(
  s: Rows<T>,
  key: string,
  list: string | undefined,
  page: Connection<T>,
) {
  const fresh = { key, list, rows: page.nodes, next: cursorOf(page), more: false };
  const last = page.nodes.at(-1);
  if (s.key !== key || !s.more || !fresh.next || !last) return fresh;
  const at = s.rows.findIndex((r) => r.id === last.id);
  if (at < 0) return fresh;
  const inPage = new Set(page.nodes.map((r) => r.id));
  const later = s.rows.slice(at + 1).filter((r) => !inPage.has(r.id));
  return { ...s, rows: [...page.nodes, ...later] };
}

/**
 * A list the API serves a page at a time (`doc` takes `after`; `select` finds its connection),
 * shown from its first page with "Show more" for the next, by the API's cursor. New variables
 * (a filter) start from the first page; until it comes, or when it fails, no rows are shown,
 * never those of other variables, except with `same`: variables of the same list (a refresh of
 * a later window) keep its rows shown until their first page comes (`showing`), none once it
 * fails. upsert() puts a row of a live event in place, or at the end once every page is shown
 * (before, its own page brings it, in its place).
 */
export function usePagedQuery<
  TResult,
  TVars extends { after?: string | null },
  T extends { id: string },
>(
  doc: TypedDocumentString<TResult, TVars>,
  variables: Omit<TVars, 'after'>,
  select: (data: TResult) => Connection<T>,
  same?: string,
) {
  const asked = { ...variables, after: null } as TVars;
  const key = JSON.stringify(asked);
  const query = useQuery(doc, asked);
  const more = useMutation(doc);
  const first = query.data && query.dataKey === key ? select(query.data) : undefined;
  const [state, setState] = useState<Rows<T>>({ key, rows: [], next: null, more: false });
  useEffect(() => {
    setState((s) =>
      first
        ? withFirst(s, key, same, first)
        : s.list !== undefined && s.list === same && query.error === undefined
          ? s
          : { key, rows: [], next: null, more: false },
    );
    // `first` changes with the query's data, which `select` only reads into.
  }, [key, query.data]);
  const keyNow = useRef(key);
  keyNow.current = key;

  const upsert = useCallback((row: T) => {
    setState((s) => {
      // A row not shown while pages remain belongs to one of them: it comes with its page.
      if (s.next !== null && !s.rows.some((r) => r.id === row.id)) return s;
      return { ...s, rows: upserted(s.rows, row) };
    });
  }, []);
  /** Changes a row already shown; adds none. */
  const update = useCallback((id: string, change: (row: T) => T | null) => {
    setState((s) => {
      const i = s.rows.findIndex((r) => r.id === id);
      if (i < 0) return s;
      const row = change(s.rows[i]!);
      const rows = s.rows.slice();
      if (row) rows[i] = row;
      else rows.splice(i, 1);
      return { ...s, rows };
    });
  }, []);

  async function showMore() {
    const after = state.next;
    if (!after || more.busy) return;
    const data = await more.run({ ...variables, after } as TVars);
    // The filter changed meanwhile: the page belongs to a list no longer shown.
    if (!data || keyNow.current !== key) return;
    const page = select(data);
    setState((s) =>
      s.key !== key
        ? s
        : { ...s, rows: page.nodes.reduce(upserted, s.rows), next: cursorOf(page), more: true },
    );
  }

  // For one render after new variables, the state still holds the old ones' rows: shown only
  // for a refresh of the same list, until its first page comes or fails.
  const current = state.key === key;
  const kept = !current && same !== undefined && state.list === same && query.error === undefined;
  return {
    rows: current || kept ? state.rows : [],
    /** Whether the first page for the variables asked now is in. */
    loaded: first !== undefined,
    /** Whether rows are shown: that page's, or the list's before a refresh while it comes. */
    showing: first !== undefined || kept,
    /** Whether more rows than those shown exist. */
    hasMore: current && state.next !== null,
    showMore,
    /** A page past the first is being read. */
    busy: more.busy,
    loading: query.loading,
    /** The first page's error; a later page's is `moreError`. */
    error: query.error,
    moreError: more.error,
    reload: query.reload,
    upsert,
    update,
  };
}
