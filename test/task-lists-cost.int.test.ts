import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { DIRECT_LIMIT } from '../graph/page-direct.js';
import { listTasks } from '../graph/task.repository.js';
import { TaskStatus } from '../src/domain/task.js';
import { createPlan } from './utils/engine-steps.js';
import { exportOf, importInto } from './utils/organisation-fixtures.js';
import { pageThrough } from './utils/pages.js';
import { expectWorkUnchanged, profiler, shown } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Tasks of another status the tenant gains between the two measures. */
const MORE = 300;

/**
 * A list of tasks in some statuses (the console's "failed" view) read the tenant's tasks in
 * list order and kept those statuses: a status few tasks are in read every task of the tenant
 * (at 20,000 tasks, 86 ms for none found), and its count counted them all. Tasks of statuses
 * few are in are now read from the (tenantId, status) index and sorted (graph/page-direct.ts:
 * OneOf); a status most are in is still read in the tenant's order, where a page fills soon.
 */
describe('a list of tasks in some statuses', () => {
  let server: TestServer;
  const prof = profiler();
  const newest = { property: 'createdAt' as const, descending: true };
  const page = { first: 20, total: true };
  const ended = [TaskStatus.FAILED, TaskStatus.CANCELLED];

  const reads: Record<string, (tx: Tx) => Promise<unknown>> = {
    failed: (tx) =>
      listTasks(tx, server.tenantId, { status: [TaskStatus.FAILED] }, newest, page).then((p) =>
        shown(p, 'title'),
      ),
    ended: (tx) =>
      listTasks(tx, server.tenantId, { status: ended }, newest, page).then((p) =>
        shown(p, 'title'),
      ),
    endedRoots: (tx) =>
      listTasks(tx, server.tenantId, { status: ended, rootsOnly: true }, newest, page).then((p) =>
        shown(p, 'title'),
      ),
  };
  const expected = {
    failed: { rows: ['Failed two', 'Failed one'], totalCount: 2 },
    ended: { rows: ['Cancelled two', 'Failed two', 'Cancelled one', 'Failed one'], totalCount: 4 },
    endedRoots: {
      rows: ['Cancelled two', 'Failed two', 'Cancelled one', 'Failed one'],
      totalCount: 4,
    },
  };

  /** `n` PENDING tasks, newer than the ended ones and a millisecond apart. */
  const pending = (n: number) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          UNWIND range(1, $n) AS i
          WITH i, datetime() + duration({milliseconds: i}) AS at
          CREATE (:Task {id: randomUUID(), tenantId: $t, title: 'pending ' + i, status: 'PENDING',
                         priority: 'MEDIUM', root: true, createdAt: at, updatedAt: at})`,
        params: { t: server.tenantId, n: neo4j.int(n) },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          UNWIND $tasks AS x
          WITH x, datetime() - duration({minutes: x.ago}) AS at
          CREATE (:Task {id: randomUUID(), tenantId: $t, title: x.title, status: x.status,
                         priority: 'MEDIUM', root: true, createdAt: at, updatedAt: at})`,
        params: {
          t: server.tenantId,
          tasks: [
            { title: 'Failed one', status: 'FAILED', ago: neo4j.int(10) },
            { title: 'Cancelled one', status: 'CANCELLED', ago: neo4j.int(9) },
            { title: 'Failed two', status: 'FAILED', ago: neo4j.int(8) },
            { title: 'Cancelled two', status: 'CANCELLED', ago: neo4j.int(7) },
          ],
        },
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await prof.close();
  });

  it('costs as much with 300 more tasks of another status in the tenant', async () => {
    await pending(10);
    await expectWorkUnchanged(prof, reads, () => pending(MORE), expected);
  });

  it('of a status most tasks are in reads the tenant’s newest, not all of that status', async () => {
    // More PENDING tasks than a page reads directly (DIRECT_LIMIT): a page reads the tenant's
    // newest tasks until it is full.
    await pending(DIRECT_LIMIT - MORE);
    const read = await prof.measure((tx) =>
      listTasks(tx, server.tenantId, { status: [TaskStatus.PENDING] }, newest, {
        first: 3,
        total: false,
      }),
    );
    const titles = read.result.items.map((item) => item.node.title);
    expect(titles).toEqual([
      `pending ${DIRECT_LIMIT - MORE}`,
      `pending ${DIRECT_LIMIT - MORE - 1}`,
      `pending ${DIRECT_LIMIT - MORE - 2}`,
    ]);
    // Asking how many there are reads up to DIRECT_LIMIT + 1 index entries; read directly, the
    // page would then read each of the 1,010 PENDING tasks and its creation time too.
    expect(read.dbHits, read.plans).toBeLessThan(2 * DIRECT_LIMIT);
  });

  it('pages through several statuses in one order, either way', async () => {
    for (const descending of [false, true]) {
      const tasks = await pageThrough((after) =>
        server.graph.read((tx) =>
          listTasks(
            tx,
            server.tenantId,
            // A status named twice is read once.
            { status: [...ended, TaskStatus.FAILED] },
            { property: 'createdAt', descending },
            { first: 1, after, total: false },
          ),
        ),
      );
      const oldestFirst = ['Failed one', 'Cancelled one', 'Failed two', 'Cancelled two'];
      expect(tasks.map((t) => t.title)).toEqual(descending ? oldestFirst.reverse() : oldestFirst);
    }
  });
});

/**
 * The console's task list (`tasks(filter: {rootsOnly: true})`, newest first) read the tenant's
 * tasks newest first and kept those without a parent: a plan's steps are newer than its root,
 * so a page read every step of every plan newer than its last root. Roots now carry `root`
 * from their creation, and the list reads them from a (tenantId, root, createdAt) index.
 */
describe('a list of root tasks', () => {
  let server: TestServer;
  const prof = profiler();
  let bigId = '';
  const newest = { property: 'createdAt' as const, descending: true };

  const reads: Record<string, (tx: Tx) => Promise<unknown>> = {
    roots: (tx) =>
      listTasks(tx, server.tenantId, { rootsOnly: true }, newest, { first: 20, total: true }).then(
        (p) => shown(p, 'title'),
      ),
  };

  /** `n` more steps of the big plan, through the API (batches of 100). */
  const steps = async (n: number) => {
    for (let done = 0; done < n; done += 100) {
      const batch = Array.from({ length: Math.min(100, n - done) }, (_, i) => ({
        key: `s${done + i}`,
        title: `step ${done + i}`,
        parentId: bigId,
      }));
      await createPlan(server, batch);
    }
  };

  beforeAll(async () => {
    server = await startTestServer();
    await createPlan(server, [
      { key: 'old', title: 'Old plan' },
      { key: 'step', title: 'Old step', parentKey: 'old' },
    ]);
    bigId = (await createPlan(server, [{ key: 'big', title: 'Big plan' }])).big!;
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await prof.close();
  });

  it('costs as much with 300 more steps under the newest root', async () => {
    await steps(10);
    await expectWorkUnchanged(prof, reads, () => steps(MORE), {
      roots: { rows: ['Big plan', 'Old plan'], totalCount: 2 },
    });
  });

  it('marks exactly the tasks without a parent as roots, an import’s too', async () => {
    // A document of an older version has no `root`; a forged one has it on a step.
    const doc = await exportOf(server);
    const tasks = doc.nodes.filter((n) => n.label === 'Task');
    for (const n of tasks) delete n.properties.root;
    tasks.find((n) => n.properties.title === 'Old step')!.properties.root = true;
    const imported = await importInto(server, doc, true);
    expect(imported.errors).toBeUndefined();
    const [row] = await server.graph.read((tx) =>
      tx.run<{ tasks: number; wrong: number }>({
        cypher: `
          MATCH (t:Task {tenantId: $t})
          RETURN count(t) AS tasks,
            count(CASE WHEN coalesce(t.root, false) = EXISTS { (t)-[:SUBTASK_OF]->() }
                  THEN 1 END) AS wrong`,
        params: { t: server.tenantId },
      }),
    );
    expect(row).toEqual({ tasks: 3 + 10 + MORE, wrong: 0 });
  });
});
