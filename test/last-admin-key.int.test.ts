import { afterAll, beforeAll, expect, it } from 'vitest';
import { Role } from '../src/domain/auth.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * revokeApiKey took a tenant's last active ADMIN key like any other: nobody could then create
 * keys, read the audit trail or export the tenant again, and no API call could undo it (only
 * the default tenant's local key is made anew at the next start).
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

const as = (secret: string) => ({ authorization: `Bearer ${secret}` });
const revoke = (id: string, secret?: string) =>
  server.gql(
    `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`,
    { id } as never,
    secret ? as(secret) : {},
  );
const newAdmin = (name: string) =>
  server.services.auth.createKey(server.tenantId, name, Role.ADMIN);

it('refuses to revoke the last active ADMIN key of a tenant, saying what to do first', async () => {
  const me = await server.gql('{ viewer { keyId } }');
  const { keyId } = (me.data as { viewer: { keyId: string } }).viewer;

  const refused = await revoke(keyId);
  expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  expect(refused.errors?.[0]?.message).toMatch(/last active ADMIN key.*createApiKey/);
  expect((await server.gql('{ viewer { role } }')).errors).toBeUndefined();

  // With another ADMIN key, the first goes; a VIEWER key never counted.
  const viewer = await server.services.auth.createKey(server.tenantId, 'viewer', Role.VIEWER);
  const second = await newAdmin('second admin');
  expect((await revoke(keyId, second.secret)).errors).toBeUndefined();
  const last = await revoke(second.apiKey.id, second.secret);
  expect(last.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  expect((await revoke(viewer.apiKey.id, second.secret)).errors).toBeUndefined();
  // Revoking a revoked key stays harmless.
  expect((await revoke(keyId, second.secret)).errors).toBeUndefined();
});

it('keeps one ADMIN key when two are revoked at once', async () => {
  const third = await newAdmin('third admin');
  const keys = await server.services.auth.listKeys(server.tenantId, { first: 100 });
  const active = keys.items.map((i) => i.node).filter((k) => k.role === Role.ADMIN && !k.revokedAt);
  expect(active.length).toBe(2);
  const results = await Promise.all(active.map((k) => revoke(k.id, third.secret)));
  const codes = results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort();
  expect(codes).toEqual(['CONFLICT', 'OK']);
  const after = await server.services.auth.listKeys(server.tenantId, { first: 100 });
  expect(
    after.items.map((i) => i.node).filter((k) => k.role === Role.ADMIN && !k.revokedAt),
  ).toHaveLength(1);
});
