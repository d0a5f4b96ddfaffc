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
          expect(res.errors?.[0]?.message).toContain(
            `needs the ${need} role; this key has ${role}`,
          );
        }
      }
    }
  });

  it('audits every refused attempt', async () => {
    const res = await server.gql(
      `{ auditEvents(filter: { outcome: [FORBIDDEN] }, first: 100) { totalCount nodes { operation actor } } }`,
    );
    const events = (
      res.data as {
        auditEvents: { totalCount: number; nodes: { operation: string; actor: string }[] };
      }
    ).auditEvents;
    expect(events.totalCount).toBeGreaterThan(10);
    expect(events.nodes.map((e) => e.operation)).toContain('Mutation.createAgent');
    expect(new Set(events.nodes.map((e) => e.actor))).toEqual(
      new Set(['test VIEWER', 'test OPERATOR']),
    );
  });
});
