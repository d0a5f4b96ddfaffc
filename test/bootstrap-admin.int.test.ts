import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrapAdmin } from '../src/cli/bootstrap.js';
import { Role } from '../src/domain/auth.js';
import type { Config } from '../src/config/config.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';

/*
 * The local admin key in DATA_DIR/admin-key. Revoked (say after it leaked), every start told
 * the person to use it, and it was refused: nobody could get into the tenant again.
 */
describe('the local admin key in DATA_DIR', () => {
  let server: TestServer;
  const tenantId = `test-${randomUUID()}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'admin-key-'));
  const config = { adminApiKey: undefined, dataDir } as unknown as Config;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await deleteTenant(server.graph, tenantId);
    await server.graph.write((tx) =>
      tx.run({ cypher: 'MATCH (t:Tenant {id: $tenantId}) DELETE t', params: { tenantId } }),
    );
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const signIn = (key: string) => server.services.auth.authenticate(`Bearer ${key}`);

  it('is made once, kept with mode 600, and the same on the next start', async () => {
    const first = await ensureBootstrapAdmin(config, server.services.auth, tenantId);
    const again = await ensureBootstrapAdmin(config, server.services.auth, tenantId);
    if (first.source !== 'file' || again.source !== 'file') throw new Error('not from the file');
    expect(again.key).toBe(first.key);
    expect(readFileSync(first.file, 'utf8').trim()).toBe(first.key);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(await signIn(first.key)).toMatchObject({ tenantId, role: 'ADMIN' });
  });

  it('is made anew on the next start once revoked, and the revoked one stays revoked', async () => {
    const before = await ensureBootstrapAdmin(config, server.services.auth, tenantId);
    if (before.source !== 'file') throw new Error('not from the file');
    const { keyId } = await signIn(before.key);
    // The tenant's last active ADMIN key cannot be revoked: another comes first.
    await server.services.auth.createKey(tenantId, 'after the leak', Role.ADMIN);
    await server.services.auth.revokeKey(tenantId, keyId);

    const after = await ensureBootstrapAdmin(config, server.services.auth, tenantId);
    if (after.source !== 'file') throw new Error('not from the file');
    expect(after.replacedRevoked).toBe(true);
    expect(after.key).not.toBe(before.key);
    expect(readFileSync(after.file, 'utf8').trim()).toBe(after.key);
    expect(await signIn(after.key)).toMatchObject({ tenantId, role: 'ADMIN' });
    await expect(signIn(before.key)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
