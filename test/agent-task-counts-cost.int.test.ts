import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { BUSY_AGENT_TASKS, taskCountsByAssigneeIds } from '../graph/task-relations.repository.js';
import { createOperators } from './utils/engine-steps.js';
import { expectWorkUnchanged, profiler } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Finished tasks the busy agent gains between the two measures. */
const MORE = 300;

/**
 * `agent.taskCounts` counted every task an agent holds: the console's Organisation page asks
 * it of every agent, and a Chief of Staff, given every root task, holds all of them (at 49,500,
 * 46 ms). For an agent that holds more than BUSY_AGENT_TASKS, the statuses other than COMPLETED
 * are now counted from the tenant's status index and COMPLETED is what is left of its degree
 * (graph/task-relations.repository.ts: busyAgentsTaskCounts), unless the tenant holds more
 * tasks of those statuses than the agent holds tasks.
 */
describe('an agent’s task counts', () => {
  let server: TestServer;
  const prof = profiler();
  const ids: Record<string, string> = {};

  /** Each agent's counts, by name, as taskCountsByAssigneeIds gives them. */
  const countsOf = (tx: Tx, names: string[]) =>
    taskCountsByAssigneeIds(
      tx,
      server.tenantId,
      names.map((name) => ids[name]!),
    ).then((rows) =>
      Object.fromEntries(
        names.map((name) => [
          name,
          rows.filter((r) => r.agentId === ids[name]).map((r) => [r.status, r.count]),
        ]),
      ),
    );
  /** The same counts as the old statement read them: every task of each agent. */
  const walked = (names: string[]) =>
    server.graph
      .read((tx) =>
        tx.run<{ name: string; status: string; count: number }>({
          cypher: `
            MATCH (a:Agent {tenantId: $t})<-[:ASSIGNED_TO]-(t:Task)
            RETURN a.name AS name, t.status AS status, count(t) AS count ORDER BY status`,
          params: { t: server.tenantId },
        }),
      )
      .then((rows) =>
        Object.fromEntries(
          names.map((name) => [
            name,
            rows.filter((r) => r.name === name).map((r) => [r.status, r.count]),
          ]),
        ),
      );

  /** `n` tasks of `agent`, every `every`th of them in `status`, the others COMPLETED. */
  const tasks = (agent: string, n: number, status = 'FAILED', every = 10) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (a:Agent {tenantId: $t, id: $agent})
          UNWIND range(1, $n) AS i
          CREATE (:Task {id: randomUUID(), tenantId: $t, title: 'task ' + i,
                         status: CASE WHEN i % $every = 0 THEN $status ELSE 'COMPLETED' END,
                         priority: 'MEDIUM', createdAt: datetime(), updatedAt: datetime()})
                 -[:ASSIGNED_TO]->(a)`,
        params: {
          t: server.tenantId,
          agent: ids[agent],
          n: neo4j.int(n),
          status,
          every: neo4j.int(every),
        },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    Object.assign(ids, await createOperators(server, { Busy: [], Quiet: [], Other: [] }));
    await tasks('Busy', BUSY_AGENT_TASKS + 10);
    await tasks('Busy', 7, 'READY', 1);
    await tasks('Busy', 3, 'CANCELLED', 1);
    await tasks('Quiet', 25, 'IN_PROGRESS', 5);
    await tasks('Other', 40, 'FAILED', 2);
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await prof.close();
  });

  it('counts a busy agent’s tasks as walking all of them does', async () => {
    const names = ['Busy', 'Quiet', 'Other'];
    const counts = await server.graph.read((tx) => countsOf(tx, names));
    expect(counts).toEqual(await walked(names));
    expect(counts.Busy).toEqual([
      ['CANCELLED', 3],
      ['COMPLETED', BUSY_AGENT_TASKS + 10 - 201],
      ['FAILED', 201],
      ['READY', 7],
    ]);
  });

  it('costs as much when a busy agent gains 300 finished tasks', async () => {
    const all = ['Busy', 'Quiet', 'Other'];
    const before = await walked(all);
    await expectWorkUnchanged(
      prof,
      { busy: (tx) => countsOf(tx, ['Busy']), all: (tx) => countsOf(tx, all) },
      () => tasks('Busy', MORE, 'COMPLETED', 1),
      {
        busy: { Busy: await walked(['Busy']).then((w) => grown(w.Busy!)) },
        all: { ...before, Busy: grown(before.Busy!) },
      },
    );
  });

  it('walks a busy agent’s tasks when the tenant holds more unfinished ones', async () => {
    // More tasks in other statuses than the busy agent holds: its own are counted.
    await tasks('Other', 2 * BUSY_AGENT_TASKS, 'PENDING', 1);
    const names = ['Busy', 'Other'];
    expect(await server.graph.read((tx) => countsOf(tx, names))).toEqual(await walked(names));
  });
});

/** Counts with MORE more COMPLETED. */
function grown(counts: unknown[]): unknown[] {
  return counts.map((c) => {
    const [status, count] = c as [string, number];
    return status === 'COMPLETED' ? [status, count + MORE] : [status, count];
  });
}
