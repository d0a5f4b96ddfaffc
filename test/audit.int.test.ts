import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/auth.js';
import { SYSTEM_TENANT } from '../src/domain/auth.js';
import { graphql } from './generated/index.js';
import { startTestServer, type TestServer } from './utils/server.js';

const Audit = graphql(`
  query AuditTrail($filter: AuditFilter, $first: Int, $after: String) {
    auditEvents(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        operation
        actor
        actorKeyId
        targetIds
        outcome
        code
        createdAt
      }
    }
  }
`);

const CreateAgent = graphql(`
  mutation AuditCreateAgent($name: String!) {
    createAgent(input: { name: $name, role: MASTER_OPERATOR }) {
      id
    }
  }
`);

describe('the audit trail', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  const trail = async (filter: Record<string, unknown>) => {
    const res = await server.gql(Audit, { filter, first: 50 });
    expect(res.errors).toBeUndefined();
    return res.data!.auditEvents;
  };

  it('records a mutation with who, what, which ids and the outcome', async () => {
    const created = await server.gql(CreateAgent, { name: 'Audited' });
    const id = created.data!.createAgent.id;
    const events = await trail({ targetId: id });
    expect(events.nodes).toEqual([
      expect.objectContaining({
        operation: 'createAgent',
        actor: 'test admin',
        outcome: 'SUCCESS',
        code: null,
        targetIds: [id],
      }),
    ]);
    const viewer = await server.gql('{ viewer { keyId } }');
    expect(events.nodes[0]?.actorKeyId).toBe(
      (viewer.data as { viewer: { keyId: string } }).viewer.keyId,
    );
  });

  it('records a refused mutation once, as a FAILURE with its code, and nothing as SUCCESS', async () => {
    await server.gql(CreateAgent, { name: 'Twice' });
    const refused = await server.gql(CreateAgent, { name: 'Twice' });
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const events = await trail({ operation: 'createAgent', outcome: ['FAILURE'] });
    expect(events.nodes).toEqual([
      expect.objectContaining({ outcome: 'FAILURE', code: 'CONFLICT' }),
    ]);
    expect((await trail({ operation: 'createAgent' })).totalCount).toBe(3);
  });

  it('records forbidden attempts with the key that tried', async () => {
    const viewerKey = await server.keyFor(Role.VIEWER);
    await server.gql(
      CreateAgent,
      { name: 'Not allowed' },
      { authorization: `Bearer ${viewerKey}` },
    );
    const events = await trail({ outcome: ['FORBIDDEN'] });
    expect(events.nodes).toEqual([
      expect.objectContaining({
        operation: 'Mutation.createAgent',
        actor: 'test VIEWER',
        code: 'FORBIDDEN',
      }),
    ]);
  });

  it('records failed authentication: a revoked key in its tenant, an unknown key as system', async () => {
    const created = await server.gql(
      `mutation { createApiKey(name: "short-lived", role: VIEWER) { apiKey { id } secret } }`,
    );
    const { apiKey, secret } = (
      created.data as { createApiKey: { apiKey: { id: string }; secret: string } }
    ).createApiKey;
    await server.gql(`mutation { revokeApiKey(id: "${apiKey.id}") { id } }`);
    const refused = await server.gql('{ viewer { keyId } }', undefined, {
      authorization: `Bearer ${secret}`,
    });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const events = await trail({ outcome: ['UNAUTHENTICATED'] });
    expect(events.nodes).toEqual([
      expect.objectContaining({ actorKeyId: apiKey.id, code: 'UNAUTHENTICATED: API key revoked' }),
    ]);

    const unknown = `ap_unknown_${Date.now()}`;
    const before = await systemRefusals(server);
    await server.gql('{ viewer { keyId } }', undefined, { authorization: `Bearer ${unknown}` });
    expect(await systemRefusals(server)).toBe(before + 1);
  });

  it('pages newest first and filters by time', async () => {
    const since = new Date().toISOString();
    for (const name of ['Page A', 'Page B', 'Page C']) await server.gql(CreateAgent, { name });
    const first = await server.gql(Audit, {
      filter: { since, operation: 'createAgent' },
      first: 2,
    });
    const page1 = first.data!.auditEvents;
    expect(page1.totalCount).toBe(3);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await server.gql(Audit, {
      filter: { since, operation: 'createAgent' },
      first: 2,
      after: page1.pageInfo.endCursor,
    });
    const all = [...page1.nodes, ...second.data!.auditEvents.nodes];
    expect(all).toHaveLength(3);
    const times = all.map((e) => String(e.createdAt));
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('is readable by admins only', async () => {
    const operatorKey = await server.keyFor(Role.OPERATOR);
    const res = await server.gql(Audit, {}, { authorization: `Bearer ${operatorKey}` });
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

async function systemRefusals(server: TestServer): Promise<number> {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ n: number }>({
      cypher:
        // Refused keys are counted per address and minute, so sum the counts.
        "MATCH (e:AuditEvent {tenantId: $system, outcome: 'UNAUTHENTICATED'}) RETURN sum(coalesce(e.count, 1)) AS n",
      params: { system: SYSTEM_TENANT },
    }),
  );
  return row!.n;
}
