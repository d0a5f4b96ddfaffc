import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/auth/keys.js';
import { Role } from '../src/domain/auth.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';

// A user could upload documents and read one by id, but had no way to list what they uploaded.

const LIST = `query($first: Int, $after: String, $filter: DocumentFilter) {
  documents(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    nodes { id title status }
  }
}`;
const COUNTED = `query($filter: DocumentFilter) {
  documents(filter: $filter) { totalCount nodes { id } }
}`;
const INGEST = `mutation($title: String!, $text: String!) {
  ingestDocument(title: $title, text: $text) { id }
}`;

interface Listed {
  totalCount?: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: { id: string; title: string; status: string }[];
}

describe('the documents list', () => {
  let server: TestServer;
  const otherTenant = `test-${randomUUID()}`;
  const otherKey = generateApiKey();
  /** Ids of the documents ingested in beforeAll, oldest first. */
  const ids: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    await server.services.auth.ensureAdminKey(otherTenant, otherKey, 'other admin');
    for (const title of ['First', 'Second', 'Third']) {
      const res = await server.gql<{ ingestDocument: { id: string } }, never>(INGEST, {
        title,
        text: `${title} notes: Acme hired ${title.length} people.`,
      } as never);
      expect(res.errors).toBeUndefined();
      ids.push(res.data!.ingestDocument.id);
    }
  });
  afterAll(async () => {
    await deleteTenant(server.graph, otherTenant);
    await server.graph.write((tx) =>
      tx.run({ cypher: 'MATCH (t:Tenant {id: $id}) DELETE t', params: { id: otherTenant } }),
    );
    await server.stop();
  });

  const list = async (variables: Record<string, unknown>, key = server.adminKey) => {
    const res = await server.gql<{ documents: Listed }, never>(LIST, variables as never, {
      authorization: `Bearer ${key}`,
    });
    expect(res.errors).toBeUndefined();
    return res.data!.documents;
  };

  it("lists the tenant's documents newest first, a page at a time", async () => {
    const first = await list({ first: 2 });
    expect(first.nodes.map((d) => d.title)).toEqual(['Third', 'Second']);
    expect(first.nodes.map((d) => d.id)).toEqual([ids[2], ids[1]]);
    expect(first.nodes[0]!.status).toBe('INGESTING');
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = await list({ first: 2, after: first.pageInfo.endCursor });
    expect(next.nodes.map((d) => d.id)).toEqual([ids[0]]);
    expect(next.pageInfo.hasNextPage).toBe(false);
  });

  it('reads the count only when totalCount is asked for', async () => {
    const sent: string[] = [];
    server.graph.onStatement = (q) => sent.push(q.cypher);
    try {
      await list({});
      expect(sent.some((c) => /count\(n\) AS total/.test(c))).toBe(false);
      const res = await server.gql<{ documents: Listed }, never>(COUNTED);
      expect(res.data!.documents.totalCount).toBe(3);
      expect(sent.some((c) => /count\(n\) AS total/.test(c))).toBe(true);
    } finally {
      server.graph.onStatement = undefined;
    }
  });

  it('filters by status', async () => {
    await server.graph.write((tx) =>
      tx.run({
        cypher: "MATCH (d:Document {tenantId: $tenantId, id: $id}) SET d.status = 'FAILED'",
        params: { tenantId: server.tenantId, id: ids[1] },
      }),
    );
    const failed = await server.gql<{ documents: Listed }, never>(COUNTED, {
      filter: { status: 'FAILED' },
    } as never);
    expect(failed.data!.documents).toEqual({ totalCount: 1, nodes: [{ id: ids[1] }] });
    const ingesting = await list({ filter: { status: 'INGESTING' } });
    expect(ingesting.nodes.map((d) => d.id)).toEqual([ids[2], ids[0]]);
  });

  it("shows a viewer the tenant's documents, and another tenant none of them", async () => {
    const viewer = await server.keyFor(Role.VIEWER);
    expect((await list({}, viewer)).nodes.map((d) => d.id)).toEqual([...ids].reverse());
    expect((await list({}, otherKey)).nodes).toEqual([]);
    const anonymous = await server.gql(LIST, {} as never, { authorization: '' });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a bad page size or a cursor of another list, naming the argument', async () => {
    const big = await server.gql(LIST, { first: 500 } as never);
    expect(big.errors?.[0]).toMatchObject({
      message: 'first must be between 1 and 100, but got 500',
      extensions: { code: 'BAD_USER_INPUT', field: 'first' },
    });
    const page = await list({ first: 1 });
    const foreign = await server.gql(LIST, {
      after: page.pageInfo.endCursor,
      filter: { status: 'FAILED' },
    } as never);
    expect(foreign.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'after',
    });
  });
});
