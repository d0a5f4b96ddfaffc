import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Role } from '../src/domain/auth.js';
import { AuthService } from '../src/services/auth.service.js';
import { UnitOfWork } from '../src/services/unit-of-work.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Issue 15 (bench:agents): 200 tasks submitted at once with one key all missed the key cache
 * together and sent 227 lookups of the same key, 214 ms each, behind the burst they were part of.
 */
describe('authenticating many requests at once', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('looks a key up once for the requests that wait on it together', async () => {
    const { secret } = await server.services.auth.createKey(server.tenantId, 'burst', Role.VIEWER);
    const before = server.graph.statementCount;
    const principals = await Promise.all(
      Array.from({ length: 50 }, () => server.services.auth.authenticate(`Bearer ${secret}`)),
    );
    expect(new Set(principals.map((p) => p.tenantId))).toEqual(new Set([server.tenantId]));
    // The lookup and the key's first lastUsedAt.
    expect(server.graph.statementCount - before).toBe(2);
  });

  it('still refuses a revoked key, and every request waiting on an unknown one', async () => {
    const { secret, apiKey } = await server.services.auth.createKey(
      server.tenantId,
      'revoked',
      Role.VIEWER,
    );
    await server.services.auth.revokeKey(server.tenantId, apiKey.id);
    const revoked = await Promise.allSettled(
      Array.from({ length: 5 }, () => server.services.auth.authenticate(`Bearer ${secret}`)),
    );
    expect(revoked.every((r) => r.status === 'rejected')).toBe(true);
    // A key revoked while a lookup of it is under way: what that lookup read is not kept.
    const racing = await server.services.auth.createKey(server.tenantId, 'racing', Role.VIEWER);
    const during = server.services.auth.authenticate(`Bearer ${racing.secret}`);
    await server.services.auth.revokeKey(server.tenantId, racing.apiKey.id);
    await during.catch(() => undefined);
    await expect(server.services.auth.authenticate(`Bearer ${racing.secret}`)).rejects.toThrow(
      /revoked/,
    );
    const unknown = await Promise.allSettled(
      Array.from({ length: 5 }, () => server.services.auth.authenticate('Bearer ap_nobody_1')),
    );
    expect(unknown.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
  });

  describe('on another instance, which hears nothing of a revocation', () => {
    afterEach(() => void vi.useRealTimers());

    it('refuses the key once its cached lookup is 5 s old, though the wall clock stepped back', async () => {
      const other = new AuthService(new UnitOfWork(server.graph, server.pubsub));
      const { secret, apiKey } = await server.services.auth.createKey(
        server.tenantId,
        'elsewhere',
        Role.VIEWER,
      );
      // Only the clocks are fake: the driver's timers run.
      vi.useFakeTimers({ toFake: ['Date', 'performance'] });
      await other.authenticate(`Bearer ${secret}`); // cached there
      // NTP steps the wall clock back an hour: on it the lookup stayed fresh for an hour and 5 s.
      vi.setSystemTime(Date.now() - 3_600_000);
      await server.services.auth.revokeKey(server.tenantId, apiKey.id);
      await expect(other.authenticate(`Bearer ${secret}`)).resolves.toBeDefined(); // cached
      vi.advanceTimersByTime(5_000);
      await expect(other.authenticate(`Bearer ${secret}`)).rejects.toThrow(/revoked/);
    });
  });
});
