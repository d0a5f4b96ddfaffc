import { afterAll, beforeAll, expect, it } from 'vitest';
import { moveVersion } from '../graph/agent-version.repository.js';
import { lockAgent } from '../graph/agent.repository.js';
import { VersionStatus } from '../src/domain/agent-version.js';
import { promote, versionOrThrow } from '../src/evolution/versions/lifecycle.js';
import { candidateOf, createAgent, versions } from './utils/agent-versions.js';
import { untilBlocked } from './utils/blocked.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * A person promotes or rolls back a candidate that the canary (or another person) decides
 * meanwhile. The move is checked under the locks and refused, but the refusal named the status
 * the version had before it waited: "Version 2 is CANDIDATE; only a CANDIDATE can be promoted".
 * It now names the status it has.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

type Answer = { errors?: { message: string; extensions: { code: string } }[] };

// The canary rolls a candidate back under the version's lock alone (the request then waits at
// its move, having read CANDIDATE); a person's rollback, under the agent's lock too (the request
// waits before it reads).
const RACES = [
  ['promoteAgentVersion', 'version'],
  ['rollbackAgentVersion', 'version'],
  ['promoteAgentVersion', 'agent'],
  ['rollbackAgentVersion', 'agent'],
] as const;

for (const [op, lock] of RACES) {
  it(`${op} of a candidate rolled back while it waited (${lock} lock) says it is ROLLED_BACK now`, async () => {
    const agent = await createAgent(server, `Raced ${op} ${lock}`, { systemPrompt: 'first' });
    const candidate = await candidateOf(server, agent.id, 'second');
    let answer: Promise<unknown> | undefined;
    // The rollback holds its locks until it commits; the person's request starts meanwhile.
    await server.graph.write(async (tx) => {
      if (lock === 'agent') await lockAgent(tx, server.tenantId, agent.id);
      const moved = await moveVersion(tx, {
        tenantId: server.tenantId,
        versionId: candidate!.id,
        from: VersionStatus.CANDIDATE,
        to: VersionStatus.ROLLED_BACK,
        reason: 'the canary: worse',
        actor: 'PLATFORM',
      });
      expect(moved?.status).toBe('ROLLED_BACK');
      answer = server.gql(`mutation($id: ID!) { ${op}(versionId: $id, reason: "mine") { id } }`, {
        id: candidate!.id,
      } as never);
      await untilBlocked(server.graph, `${op} to wait for the canary`, {
        name: 'tenantId',
        value: server.tenantId,
      });
    });
    const res = (await answer) as Answer;
    expect(res.errors?.[0]?.extensions.code).toBe('CONFLICT');
    expect(res.errors?.[0]?.message).toMatch(/^Version 2 \(.+\) is ROLLED_BACK; only a CANDIDATE/);
    const [second, first] = await versions(server, agent.id);
    expect([second?.status, first?.status]).toEqual(['ROLLED_BACK', 'LIVE']);
  });
}

it('rollbackAgentVersion of a candidate the canary promoted while it waited leaves it LIVE', async () => {
  // Rolling back a LIVE version goes back to its parent: a stronger act than dropping a
  // candidate, which the person did not ask for. They are told, and may ask for it again.
  const agent = await createAgent(server, 'Raced promotion', { systemPrompt: 'first' });
  const candidate = await candidateOf(server, agent.id, 'second');
  let answer: Promise<unknown> | undefined;
  await server.graph.write(async (tx) => {
    await lockAgent(tx, server.tenantId, agent.id);
    const v = await versionOrThrow(tx, server.tenantId, candidate!.id);
    expect((await promote(tx, () => undefined, v, 'the canary: better', 'PLATFORM'))?.status).toBe(
      'LIVE',
    );
    answer = server.gql(
      `mutation($id: ID!) { rollbackAgentVersion(versionId: $id, reason: "no") { id } }`,
      {
        id: candidate!.id,
      } as never,
    );
    await untilBlocked(server.graph, 'the rollback to wait for the canary', {
      name: 'tenantId',
      value: server.tenantId,
    });
  });
  const res = (await answer) as Answer;
  expect(res.errors?.[0]?.extensions.code).toBe('CONFLICT');
  expect(res.errors?.[0]?.message).toMatch(/^Version 2 \(.+\) became LIVE while this waited/);
  const [second, first] = await versions(server, agent.id);
  expect([second?.status, first?.status]).toEqual(['LIVE', 'RETIRED']);
});
