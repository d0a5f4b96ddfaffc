import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidateAgents, type AgentsWanted } from '../graph/claim.repository.js';
import { agentsWanted, chooseAgent } from '../src/engine/assignment.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Issue 15: every claim read all of a tenant's agents with their capabilities (1,010 rows in
 * `bench:agents`), also to place a planning step that only a Chief of Staff may take. A claim
 * now reads only the agents its steps could go to (assignment.ts: agentsWanted), and chooses
 * among them as it did among all.
 */
describe('the agents a claim reads', () => {
  let server: TestServer;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql<{ createAgents: { id: string; name: string }[] }, never>(
      `mutation { createAgents(inputs: [
        { name: "Chief A", role: CHIEF_OF_STAFF },
        { name: "Chief B", role: CHIEF_OF_STAFF, capabilities: [{ name: "research" }] },
        { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
        { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] },
        { name: "Both", role: MASTER_OPERATOR,
          capabilities: [{ name: "research" }, { name: "writing" }] },
        { name: "Plain", role: MASTER_OPERATOR },
        { name: "Paused", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] }
      ]) { id name } }`,
    );
    expect(res.errors).toBeUndefined();
    for (const a of res.data!.createAgents) ids[a.name] = a.id;
    const paused = await server.gql(
      `mutation($id: ID!) { setAgentStatus(id: $id, status: PAUSED) { id } }`,
      {
        id: ids.Paused,
      } as never,
    );
    expect(paused.errors).toBeUndefined();
  });
  afterAll(() => server?.stop());

  const read = (wanted: AgentsWanted | null) =>
    server.graph.read((tx) => candidateAgents(tx, [server.tenantId], wanted));
  const names = (candidates: Awaited<ReturnType<typeof read>>) =>
    candidates.map((c) => c.agent.name).sort();
  const step = (requirements: string[], o: { needsPlan?: boolean; assigneeId?: string } = {}) => ({
    task: { needsPlan: o.needsPlan ?? false, key: null },
    requirements,
    assigneeId: o.assigneeId ?? null,
  });

  it('reads only the Chiefs of Staff for a planning step', async () => {
    const wanted = agentsWanted([step([], { needsPlan: true })]);
    expect(wanted).toEqual({ chiefs: true, capabilities: [], ids: [] });
    expect(names(await read(wanted))).toEqual(['Chief A', 'Chief B']);
  });

  it('reads the operators with a required capability, and the assignee', async () => {
    const wanted = agentsWanted([step(['writing'], { assigneeId: ids.Plain })]);
    expect(names(await read(wanted))).toEqual(['Both', 'Plain', 'Writer']);
    // Chief B has research, but runs only what it is assigned; Paused takes no work.
    expect(names(await read(agentsWanted([step(['research'])])))).toEqual(['Both', 'Researcher']);
  });

  it('reads every active agent when a step requires nothing', async () => {
    expect(agentsWanted([step(['research']), step([])])).toBeNull();
    expect(names(await read(null))).toEqual(
      ['Both', 'Chief A', 'Chief B', 'Plain', 'Researcher', 'Writer'].sort(),
    );
  });

  it('chooses among the agents it read as among all of them', async () => {
    const all = await read(null);
    const cases = [
      step([], { needsPlan: true }),
      step(['research']),
      step(['research', 'writing']),
      step(['writing'], { assigneeId: ids.Writer }),
      step(['research'], { assigneeId: ids['Chief A'] }),
      step(['analysis']), // nobody has it: waits either way
    ];
    for (const s of cases) {
      const some = await read(agentsWanted([s]));
      const args = (pool: typeof all) =>
        chooseAgent(s.requirements, pool, 4, s.assigneeId, { chiefOfStaff: s.task.needsPlan });
      expect(args(some)).toEqual(args(all));
    }
  });
});
