import { afterAll, beforeAll, expect, it } from 'vitest';
import { LIMITS } from '../src/domain/validate.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';

/*
 * createTenant makes the tenant and its first ADMIN key together: the key was written in a
 * transaction of its own, and a refusal there (a tenant name of the longest length made a key
 * name one too long) left a tenant nobody could sign in to.
 */

let server: TestServer;
const made: string[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const tenantId of made) {
    await deleteTenant(server.graph, tenantId);
    await server.graph.write((tx) =>
      tx.run({ cypher: 'MATCH (t:Tenant {id: $tenantId}) DELETE t', params: { tenantId } }),
    );
  }
  await server.stop();
});

const tenantsNamed = async (name: string) => {
  const rows = await server.graph.read((tx) =>
    tx.run<{ id: string }>({
      cypher: 'MATCH (t:Tenant {name: $name}) RETURN t.id AS id',
      params: { name },
    }),
  );
  return rows.map((r) => r.id);
};

it('makes a tenant of the longest name with its first ADMIN key, which signs in to it', async () => {
  const name = `T${'x'.repeat(LIMITS.name - 1)}`;
  const res = await server.gql(
    `mutation($name: String!) { createTenant(name: $name) { tenant { id name } secret } }`,
    { name } as never,
  );
  made.push(...(await tenantsNamed(name)));
  expect(res.errors).toBeUndefined();
  const { tenant, secret } = (
    res.data as { createTenant: { tenant: { id: string; name: string }; secret: string } }
  ).createTenant;
  expect(made).toEqual([tenant.id]);
  const viewer = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ query: '{ viewer { role tenant { id } } }' }),
  });
  expect(await viewer.json()).toEqual({
    data: { viewer: { role: 'ADMIN', tenant: { id: tenant.id } } },
  });
});
