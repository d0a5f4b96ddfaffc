import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { startTestServer, type TestServer } from './utils/server.js';

describe('audit retention', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  /** Writes audit events of this test's tenant, `ageDays` old. */
  const insertEvents = (n: number, ageDays: number) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          UNWIND range(1, $n) AS i
          CREATE (:AuditEvent {id: randomUUID(), tenantId: $tenantId, operation: 'retention-test',
                               actor: null, actorKeyId: null, targetIds: [], outcome: 'SUCCESS',
                               code: null, createdAt: datetime() - duration({days: $ageDays})})`,
        params: { tenantId: server.tenantId, n, ageDays },
      }),
    );

  const ages = async () => {
    const rows = await server.graph.read((tx) =>
      tx.run<{ days: number }>({
        cypher: `
          MATCH (e:AuditEvent {tenantId: $tenantId, operation: 'retention-test'})
          RETURN duration.inDays(e.createdAt, datetime()).days AS days ORDER BY days`,
        params: { tenantId: server.tenantId },
      }),
    );
    return rows.map((r) => r.days);
  };

  it('deletes events older than the retention in batches, and keeps the newer ones', async () => {
    await insertEvents(5, 100);
    await insertEvents(2, 10);
    await insertEvents(1, 89);
    const deleted = await server.services.audit.sweep(90, {
      batch: 2,
      tenantIds: [server.tenantId],
    });
    expect(deleted).toBe(5);
    expect(await ages()).toEqual([10, 10, 89]);
    // Nothing left to delete: a second sweep is a no-op for this tenant.
    await server.services.audit.sweep(90, { batch: 2, tenantIds: [server.tenantId] });
    expect(await ages()).toEqual([10, 10, 89]);
  });

  it('keeps 90 days unless AUDIT_RETENTION_DAYS says otherwise', () => {
    expect(loadConfig({}).auditRetentionDays).toBe(90);
    expect(loadConfig({ AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays).toBe(30);
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: '0' })).toThrow(/AUDIT_RETENTION_DAYS/);
  });
});
