import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';

// A walk: a tenant sending four 14,000-node imports at once held the API's event loop and Neo4j
// (another tenant's query p99 0.8 s -> 3.1 s) while its own imports timed out.

let server: TestServer;
const other = `test-org-other-${randomUUID()}`;
const empty = { format: 'agent-platform/organisation', version: 1, nodes: [], relationships: [] };

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await deleteTenant(server.graph, other);
  await server?.stop();
});

describe('whole-organisation operations', () => {
  it('runs one export, import or deletion of a tenant at a time, and others’ beside it', async () => {
    const org = server.services.organisation;
    const first = org.import(server.tenantId, empty, true);
    const beside = org.import(other, empty, true);
    const again = [
      org.import(server.tenantId, empty, true),
      org.export(server.tenantId),
      org.delete(server.tenantId, server.tenantId),
    ];
    for (const refused of await Promise.allSettled(again)) {
      expect(refused.status).toBe('rejected');
      const err = (refused as PromiseRejectedResult).reason;
      expect(err).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        details: { limit: 'organisationOperationsPerTenant' },
      });
      expect(err.message).toMatch(/one at a time.*send it again/);
    }
    await expect(first).resolves.toMatchObject({ nodesCreated: 0 });
    await expect(beside).resolves.toMatchObject({ nodesCreated: 0 });
    // Once it ended, the next one runs.
    await expect(org.import(server.tenantId, empty, true)).resolves.toBeDefined();
  });
});
