import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { listAgents } from '../graph/agent.repository.js';
import { DIRECT_LIMIT } from '../graph/page-direct.js';
import { BUSY_AGENT_TASKS, tasksByAssigneeIds } from '../graph/task-relations.repository.js';
import { TaskStatus } from '../src/domain/task.js';
import { createOperators } from './utils/engine-steps.js';
import { expectWorkUnchanged, profiler } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Older tasks the busy agent gains between the two measures. */
const MORE = 300;

/**
 * An agent's newest tasks (`agent.tasks(first)`, batched or in a page of agents) were read by
 * walking every task the agent holds and sorting them: a Chief of Staff is given every root
 * task, and each read of the agents cost all of them (at 50,000, 63 ms for ten). An agent that
 * holds more than BUSY_AGENT_TASKS now has its newest looked for among the tenant's newest tasks
 * (graph/task-relations.repository.ts: busyAgentsTasks), and all of its tasks are read only
 * when too few of them are there.
 */
describe('an agent’s newest tasks', () => {
  let server: TestServer;
  const prof = profiler();
  const ids: Record<string, string> = {};
  /** The busy agent's tasks, 'busy 1' oldest: all newer than the idle agent's. */
  const BUSY = BUSY_AGENT_TASKS + 10;
  /** The idle agent's tasks: the tenant's oldest, as many as make an agent busy. */
  const IDLE = BUSY_AGENT_TASKS + 5;

  const titlesOf = (rows: { agentId: string; task: { title: string } }[], agent: string) =>
    rows.filter((r) => r.agentId === ids[agent]).map((r) => r.task.title);
  const newestOf = (tx: Tx, agent: string, limit: number, statuses: TaskStatus[] | null = null) =>
    tasksByAssigneeIds(tx, server.tenantId, [ids[agent]!], statuses, limit, ['title']).then(
      (rows) => titlesOf(rows, agent),
    );
  /** Each agent's `limit` newest tasks as the old statement read them: every one, sorted. */
  const walked = (limit: number) =>
    server.graph.read((tx) =>
      tx.run<{ name: string; titles: string[] }>({
        cypher: `
          MATCH (a:Agent {tenantId: $t})<-[:ASSIGNED_TO]-(t:Task)
          WITH a, t ORDER BY t.createdAt DESC, t.id DESC
          WITH a, collect(t.title)[..$limit] AS titles
          RETURN a.name AS name, titles ORDER BY name`,
        params: { t: server.tenantId, limit: neo4j.int(limit) },
      }),
    );

  /** `n` tasks of `agent` titled `prefix i`, created `minutesAgo` minutes ago plus i ms. */
  const tasks = (agent: string, prefix: string, n: number, minutesAgo: number) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (a:Agent {tenantId: $t, id: $agent})
          UNWIND range(1, $n) AS i
          WITH a, i,
               datetime() - duration({minutes: $ago}) + duration({milliseconds: i}) AS at
          CREATE (:Task {id: randomUUID(), tenantId: $t, title: $prefix + ' ' + i,
                         status: CASE WHEN i % 10 = 0 THEN 'FAILED' ELSE 'COMPLETED' END,
                         priority: 'MEDIUM', createdAt: at, updatedAt: at})-[:ASSIGNED_TO]->(a)`,
        params: {
          t: server.tenantId,
          agent: ids[agent],
          prefix,
          n: neo4j.int(n),
          ago: neo4j.int(minutesAgo),
        },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    Object.assign(ids, await createOperators(server, { Busy: [], Idle: [], Quiet: [] }));
    // The idle agent's tasks are the tenant's oldest; the quiet one's are among the newest.
    await tasks('Idle', 'idle', IDLE, 60);
    await tasks('Busy', 'busy', BUSY, 30);
    await tasks('Quiet', 'quiet', 3, 10);
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await prof.close();
  });

  it('costs as much when a busy agent gains 300 older tasks', async () => {
    const listed = (tx: Tx) =>
      listAgents(
        tx,
        server.tenantId,
        {},
        { property: 'name', descending: false },
        { first: 10, total: false },
        { tasks: { statuses: null, limit: 3, selected: ['title'] } },
      ).then((page) =>
        page.items.map((i) => [
          i.node.name,
          page.related.get(i.node.id)?.tasks?.map((t) => t.title),
        ]),
      );
    const three = (prefix: string, last: number) => [0, 1, 2].map((i) => `${prefix} ${last - i}`);
    await expectWorkUnchanged(
      prof,
      { batched: (tx) => newestOf(tx, 'Busy', 3), listed },
      () => tasks('Busy', 'older', MORE, 45),
      {
        batched: three('busy', BUSY),
        listed: [
          ['Busy', three('busy', BUSY)],
          ['Idle', three('idle', IDLE)],
          ['Quiet', three('quiet', 3)],
        ],
      },
    );
  });

  it('reads all of an agent’s tasks when the tenant’s newest hold too few of them', async () => {
    // None of the idle agent's tasks is among the tenant's newest.
    expect(await server.graph.read((tx) => newestOf(tx, 'Idle', 2))).toEqual([
      `idle ${IDLE}`,
      `idle ${IDLE - 1}`,
    ]);
    // The busy agent's one cancelled task is its oldest, far from the tenant's newest.
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (:Agent {tenantId: $t, id: $busy})<-[:ASSIGNED_TO]-(t:Task {title: 'busy 1'})
          SET t.status = 'CANCELLED'`,
        params: { t: server.tenantId, busy: ids.Busy },
      }),
    );
    const cancelled = (tx: Tx) => newestOf(tx, 'Busy', 5, [TaskStatus.CANCELLED]);
    expect(await server.graph.read(cancelled)).toEqual(['busy 1']);
    // Of a status the tenant's newest hold enough of, only those are read.
    const failed = await prof.measure((tx) => newestOf(tx, 'Busy', 3, [TaskStatus.FAILED]));
    expect(failed.result).toEqual([`busy ${BUSY}`, `busy ${BUSY - 10}`, `busy ${BUSY - 20}`]);
    expect(failed.dbHits, failed.plans).toBeLessThan(6 * DIRECT_LIMIT);
  });

  it('answers as walking every task would, through the API too', async () => {
    // Two of the busy agent's newest tasks created at the same time: ties go by id.
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (a:Agent {tenantId: $t, id: $busy})<-[:ASSIGNED_TO]-(t:Task)
          WHERE t.title IN ['busy ${BUSY}', 'busy ${BUSY - 1}', 'busy ${BUSY - 2}']
          SET t.createdAt = datetime('2100-01-01T00:00:00Z')`,
        params: { t: server.tenantId, busy: ids.Busy },
      }),
    );
    const want = await walked(12);
    const res = await server.gql<
      { agents: { nodes: { name: string; tasks: { title: string }[] }[] } },
      never
    >('{ agents(first: 10, orderBy: NAME_ASC) { nodes { name tasks(first: 12) { title } } } }');
    expect(res.errors).toBeUndefined();
    const answered = res.data!.agents.nodes.map((a) => ({
      name: a.name,
      titles: a.tasks.map((t) => t.title),
    }));
    expect(answered).toEqual(want);
    // The batched loader (agent(id)) answers the same.
    const busy = want.find((w) => w.name === 'Busy')!.titles;
    expect(await server.graph.read((tx) => newestOf(tx, 'Busy', 12))).toEqual(busy);
  });
});
