/** "Show more …" under a paged list (usePagedQuery) while more rows exist than it shows. */
export function ShowMore(props: {
  list: { hasMore: boolean; busy: boolean; showMore(): Promise<void> };
  /** What the rows are: "agents", "tasks". */
  what: string;
}) {
  const { list } = props;
  if (!list.hasMore) return null;
  return (
    <p>
      <button
        type="button"
        className="secondary"
        onClick={() => void list.showMore()}
        disabled={list.busy}
      >
        {list.busy ? 'Loading…' : `Show more ${props.what}`}
      </button>
    </p>
  );
}
