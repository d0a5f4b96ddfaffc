import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentRole } from '../src/domain/agent.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Issue 15, found by bench:agents on a cold Neo4j: a mutation that failed because its request
 * ran out of time lost its audit event. The failure is audited after the mutation's
 * transaction rolled back, and that write ran under the request's deadline, already past:
 * "could not write the audit event of a failure", nothing in the trail. A person who asks who
 * tried what must see it; the event gets a few seconds of its own.
 */
const REQUEST_MS = 500;

describe('the audit of a mutation that ran out of time', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(undefined, { requestTimeoutMs: REQUEST_MS });
  });
  afterAll(() => server.stop());

  it('is written although the request deadline has passed', async () => {
    // Made through the service, outside any request: under the 500 ms limit, on a loaded
    // machine, the setup's own mutation ran out of time (round 26 of 2026-12-01).
    const [agent] = await server.services.agents.createMany(server.tenantId, [
      { name: 'Locked', role: AgentRole.MASTER_OPERATOR, capabilities: [] },
    ]);
    const id = agent!.id;

    // Another transaction holds the agent's lock longer than the request may run, though not
    // as long as Neo4j's transaction monitor may take to end the request's transaction (it
    // checks every 2 s): the update then ran on past its deadline and committed, audited as a
    // SUCCESS of a request answered REQUEST_TIMEOUT (round 35 of 2026-12-02, with 2 s).
    let locked!: () => void;
    const holding = new Promise<void>((r) => (locked = r));
    const held = server.graph.write(async (tx) => {
      await tx.run({ cypher: 'MATCH (a:Agent {id: $id}) SET a.heldBy = "test"', params: { id } });
      locked();
      await new Promise((r) => setTimeout(r, REQUEST_MS + 100));
    });
    await holding;
    const res = await server.gql(
      `mutation($id: ID!) { updateAgent(id: $id, input: { description: "late" }) { id } }`,
      { id },
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('REQUEST_TIMEOUT');
    await held;

    // The failure's audit commits once the mutation's transaction gives up on the lock.
    const until = performance.now() + 10_000;
    let events: { outcome: string; targetIds: string[] }[] = [];
    while (performance.now() < until) {
      const trail = await server.graph.read((tx) =>
        tx.run<{ outcome: string; targetIds: string[] }>({
          cypher: `MATCH (e:AuditEvent {tenantId: $tenantId, operation: 'updateAgent'})
                   RETURN e.outcome AS outcome, e.targetIds AS targetIds`,
          params: { tenantId: server.tenantId },
        }),
      );
      events = trail;
      if (events.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(events).toEqual([{ outcome: 'FAILURE', targetIds: [id] }]);
    const [agentNow] = await server.graph.read((tx) =>
      tx.run<{ description: string | null }>({
        cypher: 'MATCH (a:Agent {id: $id}) RETURN a.description AS description',
        params: { id },
      }),
    );
    expect(agentNow!.description).not.toBe('late'); // nothing of the timed-out request
  }, 30_000);
});
