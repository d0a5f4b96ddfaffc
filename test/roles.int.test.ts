import { randomUUID } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/auth.js';
import { introspect, operationFor, rootFields } from './utils/introspect.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Fields that need ADMIN; every other query needs VIEWER and every other mutation OPERATOR. */
const ADMIN_FIELDS = new Set([
  'apiKeys',
  'auditEvents',
  'exportOrganisation',
  'createApiKey',
  'revokeApiKey',
  'createTenant',
  'importOrganisation',
  'deleteOrganisation',
  'setBudget',
  'forgetEpisodes',
  'setEpisodeRetention',
  'episodeRetention',
  // Which tools' calls wait for a person (issue 13).
  'setToolPolicy',
  'removeToolPolicy',
  // Outside MCP servers and who may use them (issue 16).
  'addToolServer',
  'updateToolServer',
  'removeToolServer',
  'refreshToolServer',
  'grantTools',
  'revokeTools',
  // Outside A2A agents as members of the organisation (issue 16).
  'addRemoteAgent',
]);
const PUBLIC_FIELDS = new Set(['health']);

function neededRole(kind: string, name: string): Role | null {
  if (PUBLIC_FIELDS.has(name)) return null;
  if (ADMIN_FIELDS.has(name)) return Role.ADMIN;
  return kind === 'mutation' ? Role.OPERATOR : Role.VIEWER;
}

const RANK = [Role.VIEWER, Role.OPERATOR, Role.ADMIN];

describe('the role matrix', () => {
  let server: TestServer;
  let schema: GraphQLSchema;
  const keys: Record<Role, string> = { VIEWER: '', OPERATOR: '', ADMIN: '' };
  const marker = `matrix-${randomUUID()}`;
  /** Every attempt the matrix saw refused with FORBIDDEN, as the audit trail names it. */
  const refused: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    keys.ADMIN = server.adminKey;
    keys.OPERATOR = await server.keyFor(Role.OPERATOR);
    keys.VIEWER = await server.keyFor(Role.VIEWER);
    schema = await introspect(server.url, server.adminKey);
  });
  afterAll(async () => {
    // createTenant ran as ADMIN with the marker as its name: remove that tenant and its key.
    await server.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (t:Tenant {name: $marker}) OPTIONAL MATCH (k:ApiKey {tenantId: t.id})
                 DETACH DELETE t, k`,
        params: { marker },
      }),
    );
    await server.stop();
  });

  const call = (query: string, key: string | null) =>
    server.gql(query, undefined, { authorization: key ? `Bearer ${key}` : '' });

  it('holds for every query and mutation, for no key and each role', async () => {
    const fields = rootFields(schema).filter((f) => f.kind !== 'subscription');
    expect(fields.length).toBeGreaterThan(40);
    for (const { kind, field } of fields) {
      const need = neededRole(kind, field.name);
      const query = operationFor(kind, field, randomUUID, marker);

      const anonymous = await call(query, null);
      const anonymousCode = anonymous.errors?.[0]?.extensions?.code;
      if (need) expect(anonymousCode, `${field.name} without a key`).toBe('UNAUTHENTICATED');
      else expect(anonymous.errors, `${field.name} is public`).toBeUndefined();

      for (const role of RANK) {
        const res = await call(query, keys[role]);
        const code = res.errors?.[0]?.extensions?.code;
        const allowed = !need || RANK.indexOf(role) >= RANK.indexOf(need);
        if (allowed) {
          expect(['FORBIDDEN', 'UNAUTHENTICATED'], `${field.name} as ${role}`).not.toContain(code);
          expect(code, `${field.name} as ${role}`).not.toBe('INTERNAL_SERVER_ERROR');
        } else {
          expect(code, `${field.name} as ${role}`).toBe('FORBIDDEN');
          refused.push(
            `${kind === 'mutation' ? 'Mutation' : 'Query'}.${field.name} by test ${role}`,
          );
          expect(res.errors?.[0]?.message).toContain(
            `needs the ${need} role; this key has ${role}`,
          );
        }
      }
    }
    // About 100 fields, four calls each: a loaded machine took over 30 s.
  }, 180_000);

  it('audits every refused attempt', async () => {
    // This tenant's refusals, every page: exactly one event for each refused attempt above.
    const audited: string[] = [];
    let totalCount = -1;
    type Page = {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      nodes: { operation: string; actor: string }[];
    };
    for (let after: string | null = null, more = true; more;) {
      const res: { data?: unknown; errors?: unknown } = await server.gql(
        `query($after: String) { auditEvents(filter: { outcome: [FORBIDDEN] }, first: 100, after: $after) {
           totalCount pageInfo { hasNextPage endCursor } nodes { operation actor } } }`,
        { after } as never,
      );
      expect(res.errors).toBeUndefined();
      const page: Page = (res.data as { auditEvents: Page }).auditEvents;
      totalCount = page.totalCount;
      audited.push(...page.nodes.map((e) => `${e.operation} by ${e.actor}`));
      more = page.pageInfo.hasNextPage;
      after = page.pageInfo.endCursor;
    }
    expect(refused.length).toBeGreaterThan(40); // the matrix ran: every mutation as VIEWER
    expect(refused).toContain('Mutation.createAgent by test VIEWER');
    expect(totalCount).toBe(refused.length);
    expect([...audited].sort()).toEqual([...refused].sort());
  });
});
