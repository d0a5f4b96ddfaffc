import {
  Kind,
  parse,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  type OperationDefinitionNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  countQuery,
  FLAGGED_LISTS,
  listKey,
  listQuery,
  ORDERED_LISTS,
  type ListSpec,
} from '../graph/page.js';
import { MIGRATIONS } from '../graph/migrations.js';
import { pageInput } from '../schema/connection.type.js';
import {
  checkCursor,
  decodeCursor,
  encodeCursor,
  pageRequest,
  useCursorSecret,
} from '../src/domain/page.js';

const spec = (over: Partial<ListSpec> = {}): ListSpec => ({
  label: 'Task',
  conditions: ['n.status IN $status'],
  params: { tenantId: 't1', status: ['READY'] },
  sort: { property: 'createdAt', descending: false },
  page: { first: 20, total: true },
  ...over,
});

describe('list queries', () => {
  it('read the tenant through its (tenantId, property) index and stream its order', () => {
    const { cypher } = listQuery(spec());
    expect(cypher).toContain('MATCH (n:Task {tenantId: $tenantId})');
    expect(cypher).toContain('USING INDEX SEEK n:Task(tenantId, createdAt)');
    expect(cypher).toContain('n.createdAt IS NOT NULL AND n.status IN $status');
    // n.tenantId first: the index order then serves the ORDER BY, which stops after the page.
    expect(cypher).toContain('ORDER BY n.tenantId ASC, n.createdAt ASC, n.id ASC LIMIT $limit');
  });

  it('count the same rows through the same index', () => {
    const { cypher } = countQuery(spec({ sort: { property: 'title', descending: false } }));
    expect(cypher).toContain('USING INDEX SEEK n:Task(tenantId, title)');
    expect(cypher).toContain('WHERE n.title IS NOT NULL AND n.status IN $status');
  });

  it('start after a cursor with a range the index can seek', () => {
    const sort = { property: 'createdAt' as const, descending: true };
    const after = decodeCursor(
      encodeCursor({ value: '2026-01-01T00:00:00Z', id: 'x' }, listKey(spec({ sort }))),
    );
    const q = listQuery(spec({ sort, page: { first: 5, after, total: true } }));
    expect(q.cypher).toContain(
      'n.createdAt <= datetime($afterValue) AND CASE WHEN n.createdAt = datetime($afterValue) THEN n.id < $afterId ELSE true END',
    );
    // No OR for the planner to split into two index reads that lose the order.
    expect(q.cypher).not.toMatch(/\bOR\b/);
    expect(q.params).toMatchObject({ afterValue: '2026-01-01T00:00:00Z', afterId: 'x' });
  });

  it('sign cursors for the rows a list selects: its filter values, not what it shows of them', () => {
    const key = listKey(spec());
    expect(listKey(spec({ params: { tenantId: 't1', status: ['READY'] } }))).toBe(key);
    // What a page shows of each row (a column and its parameters) is not the list's.
    const shown = { columns: { busy: 'size($statuses)' } };
    expect(listKey(spec({ ...shown, params: { tenantId: 't1', status: ['READY'], x: 1 } }))).toBe(
      key,
    );
    expect(listKey(spec({ params: { tenantId: 't1', status: ['DONE'] } }))).not.toBe(key);
    expect(listKey(spec({ conditions: [] }))).toBe('Task.createdAt.ASC');
    expect(listKey(spec({ flag: 'root' }))).not.toBe(key);
    const linked = (agentId: string) =>
      listKey(
        spec({
          linked: [{ from: { label: 'Agent', id: 'agentId' }, edges: [], test: 't($agentId)' }],
          params: { tenantId: 't1', status: ['READY'], agentId },
        }),
      );
    expect(linked('a1')).not.toBe(linked('a2'));
  });

  it('sort messages by update time as by creation time (messages never change)', () => {
    const { cypher } = listQuery(
      spec({ label: 'Message', sort: { property: 'updatedAt', descending: true } }),
    );
    expect(cypher).toContain('USING INDEX SEEK n:Message(tenantId, createdAt)');
  });

  it('of one agent’s rows walk from it, or read the tenant’s in order and test each', () => {
    const linked = {
      from: { label: 'Agent', id: 'assigneeId' },
      edges: ['<-[:ASSIGNED_TO]-'],
      test: 'EXISTS { (n)-[:ASSIGNED_TO]->(a) WHERE a.id = $assigneeId }',
    };
    const walked = listQuery(spec({ linked: [linked] }), 'walk').cypher;
    expect(walked).toContain('MATCH (from:Agent {tenantId: $tenantId, id: $assigneeId})');
    expect(walked).toContain('MATCH (from)<-[:ASSIGNED_TO]-(n:Task) RETURN DISTINCT n');
    expect(walked).not.toContain(linked.test);
    const scanned = listQuery(spec({ linked: [linked] }), 'scan').cypher;
    expect(scanned).toContain('USING INDEX SEEK n:Task(tenantId, createdAt)');
    expect(scanned).toContain(`n.status IN $status AND ${linked.test}`);
    // A count tests every row it scans: it always walks.
    expect(countQuery(spec({ linked: [linked] })).cypher).toContain(
      'MATCH (from)<-[:ASSIGNED_TO]-(n:Task)',
    );
    // Beside a walk from another node, only the test is left.
    const match = 'MATCH (n:Task) WITH n';
    expect(listQuery(spec({ linked: [linked], match }), 'walk').cypher).toContain(linked.test);
    // Walked from the first of two nodes, its rows are tested for the second.
    const other = { ...linked, test: 'EXISTS { (n)-[:REQUIRES]->(c) WHERE c.name = $capability }' };
    const both = listQuery(spec({ linked: [linked, other] }), 'walk').cypher;
    expect(both).toContain(other.test);
    expect(both).not.toContain(linked.test);
  });

  it('refuse an order that the list has no index for', () => {
    expect(() =>
      listQuery(spec({ label: 'Knowledge', sort: { property: 'title', descending: false } })),
    ).toThrow('Knowledge lists cannot be sorted by title');
  });

  it('have a tenant-first index for every order they allow', () => {
    const statements = MIGRATIONS.flatMap((m) => m.statements).join('\n');
    for (const [label, orders] of Object.entries(ORDERED_LISTS)) {
      for (const property of new Set(Object.values(orders))) {
        const index = new RegExp(
          `FOR \\(\\w+:${label}\\) (ON|REQUIRE) \\(\\w+\\.tenantId, \\w+\\.${property}\\)`,
        );
        expect(statements, `${label}(tenantId, ${property})`).toMatch(index);
      }
    }
    for (const [label, flags] of Object.entries(FLAGGED_LISTS)) {
      for (const [flag, orders] of Object.entries(flags)) {
        for (const property of orders) {
          const keys = ['tenantId', flag, property].map((key) => `\\w+\\.${key}`).join(', ');
          const index = new RegExp(`FOR \\(\\w+:${label}\\) ON \\(${keys}\\)`);
          expect(statements, `${label}(tenantId, ${flag}, ${property})`).toMatch(index);
        }
      }
    }
  });

  it('of a flagged subset read its own index in order', () => {
    const { cypher } = listQuery(spec({ flag: 'root' }));
    expect(cypher).toContain('MATCH (n:Task {tenantId: $tenantId, root: true})');
    expect(cypher).toContain('USING INDEX SEEK n:Task(tenantId, root, createdAt)');
    expect(cypher).toContain('ORDER BY n.tenantId ASC, n.root ASC, n.createdAt ASC, n.id ASC');
    expect(cypher).toContain('n.root = true');
  });

  it('of a few statuses read them from their index, or the tenant’s in order', () => {
    const oneOf = { property: 'status', param: 'status' };
    const direct = listQuery(spec({ oneOf })).cypher;
    expect(direct).toContain('UNWIND $status AS oneOfValue');
    expect(direct).toContain('USING INDEX SEEK n:Task(tenantId, status)');
    const scanned = listQuery(spec({ oneOf }), 'scan').cypher;
    expect(scanned).toContain('USING INDEX SEEK n:Task(tenantId, createdAt)');
    // The index it reads by.
    const statements = MIGRATIONS.flatMap((m) => m.statements).join('\n');
    expect(statements).toMatch(/FOR \(\w+:Task\) ON \(\w+\.tenantId, \w+\.status\)/);
  });
});

describe('cursors', () => {
  it('round-trip for the list they were made for', () => {
    const token = encodeCursor({ value: 'v', id: 'i' }, 'Task.title.ASC');
    expect(
      checkCursor(pageRequest({ first: 5, after: token }).after!, 'Task.title.ASC'),
    ).toMatchObject({
      value: 'v',
      id: 'i',
    });
  });

  it('are refused for another list or order, altered, forged or signed with another secret', () => {
    const token = encodeCursor({ value: 'v', id: 'i' }, 'Task.title.ASC');
    const notOurs = /after is not a cursor of this list/;
    expect(() => checkCursor(decodeCursor(token), 'Agent.name.ASC')).toThrow(notOurs);
    expect(() => checkCursor(decodeCursor(token), 'Task.title.DESC')).toThrow(notOurs);
    const [value, , mac] = JSON.parse(Buffer.from(token, 'base64url').toString()) as string[];
    const altered = Buffer.from(JSON.stringify([value, 'other', mac])).toString('base64url');
    expect(() => checkCursor(decodeCursor(altered), 'Task.title.ASC')).toThrow(notOurs);
    const forged = Buffer.from(JSON.stringify(['garbage', 'x'])).toString('base64url');
    expect(() => pageRequest({ first: 5, after: forged })).toThrow(notOurs);
    useCursorSecret('another secret of at least thirty-two characters');
    expect(() => checkCursor(decodeCursor(token), 'Task.title.ASC')).toThrow(notOurs);
  });
});

describe('pageInput', () => {
  /** The resolve info of the operation's first field, as graphql-js hands it to a resolver. */
  const infoOf = (source: string) => {
    const definitions = parse(source).definitions;
    const operation = definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    const fragments = definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    return {
      fieldNodes: [(operation as OperationDefinitionNode).selectionSet.selections[0]],
      fragments: Object.fromEntries(
        (fragments as FragmentDefinitionNode[]).map((f) => [f.name.value, f]),
      ),
    } as unknown as GraphQLResolveInfo;
  };
  const total = (source: string) => pageInput({ first: 2 }, infoOf(source)).total;

  it('asks for the count when totalCount is selected: directly, aliased, or in fragments', () => {
    expect(total('{ tasks { totalCount } }')).toBe(true);
    expect(total('{ tasks { n: totalCount nodes { id } } }')).toBe(true);
    expect(total('{ tasks { ... on TaskConnection { totalCount } } }')).toBe(true);
    expect(
      total(
        '{ tasks { ...A } } fragment A on TaskConnection { ...B } fragment B on TaskConnection { totalCount }',
      ),
    ).toBe(true);
  });

  it('does not when it is not, even when a field inside is called totalCount', () => {
    expect(total('{ tasks { nodes { id } pageInfo { hasNextPage } } }')).toBe(false);
    expect(total('{ tasks { totalCount: pageInfo { hasNextPage } } }')).toBe(false);
    expect(total('{ tasks { ...A } } fragment A on TaskConnection { ...A nodes { id } }')).toBe(
      false,
    );
  });
});
