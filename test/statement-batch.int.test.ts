import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batched } from '../graph/batch.js';
import type { Tx } from '../graph/cypher.js';
import { changeStatuses } from '../graph/promotion.repository.js';
import { taskEvents } from '../graph/task-event.repository.js';
import { TaskStatus } from '../src/domain/task.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Issue 15: the ends of a group commit each sent the same half-dozen statements, and Neo4j runs
 * a transaction's statements one at a time. Calls of one kind made at once on one transaction
 * now share a statement (graph/batch.ts), each caller getting what it would have got alone.
 */
describe('statements batched on a transaction', () => {
  let server: TestServer;
  let sent: { tx: Tx; cypher: string }[];
  beforeAll(async () => {
    server = await startTestServer();
    server.graph.onStatement = (q, tx) => void sent.push({ tx, cypher: q.cypher });
  });
  afterAll(async () => {
    if (server) server.graph.onStatement = undefined;
    await server?.stop();
  });

  const write = <T>(work: (tx: Tx) => Promise<T>) => {
    sent = [];
    return server.services.uow.run((tx) => work(tx));
  };
  /** Sends `xs` as one statement's rows and answers each item with its row. */
  const echo = async (tx: Tx, xs: number[]) => {
    const rows = await tx.run<{ x: number }>({
      cypher: 'UNWIND $xs AS x RETURN x',
      params: { xs },
    });
    return rows.map((r) => Number(r.x));
  };

  async function createTasks(n: number): Promise<string[]> {
    const res = await server.gql<{ createTasks: { id: string; status: string }[] }, never>(
      `mutation($inputs: [CreateTaskInput!]!) { createTasks(inputs: $inputs) { id status } }`,
      { inputs: Array.from({ length: n }, (_, i) => ({ title: `batched ${i}` })) } as never,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.createTasks.map((t) => t.status)).toEqual(Array(n).fill('PENDING'));
    return res.data!.createTasks.map((t) => t.id);
  }

  it('calls made at once share one statement, each answered with its own rows, in order', async () => {
    const answers = await write((tx) =>
      Promise.all([1, 2, 3].map((x) => batched(tx, echo, x, [String(x)]))),
    );
    expect(answers).toEqual([1, 2, 3]);
    expect(sent).toHaveLength(1);
  });

  it('calls whose keys meet run in rounds, in call order; a call after an await goes alone', async () => {
    const answers = await write(async (tx) => {
      const first = await Promise.all(
        [1, 2, 1, 3].map((x, i) => batched(tx, echo, x * 10 + i, [String(x)])),
      );
      return [...first, await batched(tx, echo, 99, ['9'])];
    });
    expect(answers).toEqual([10, 21, 12, 33, 99]);
    expect(sent).toHaveLength(3); // [10, 21], [12, 33], then [99]
  });

  it('a failed statement fails every call in it', async () => {
    const bad = (tx: Tx, xs: number[]) =>
      tx
        .run({
          cypher: 'UNWIND $xs AS x RETURN 1 / (toInteger(x) - toInteger(x)) AS y',
          params: { xs },
        })
        .then(() => xs);
    let settled: PromiseSettledResult<number>[] = [];
    await write(async (tx) => {
      settled = await Promise.allSettled([batched(tx, bad, 1, []), batched(tx, bad, 2, [])]);
    }).catch(() => undefined); // the transaction failed too
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(sent).toHaveLength(1);
  });

  it('calls on two transactions never share a statement', async () => {
    sent = [];
    const { uow } = server.services;
    const both = await Promise.all([
      uow.run((tx) => batched(tx, echo, 5, [])),
      uow.run((tx) => batched(tx, echo, 6, [])),
    ]);
    expect(both).toEqual([5, 6]);
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((s) => s.tx)).size).toBe(2);
  });

  it('two calls promoting one task share a statement: the first moves it, the second finds it moved', async () => {
    const [a, b] = await createTasks(2);
    const promote = (ids: string[]) =>
      ids.map((id) => ({ id, from: TaskStatus.PENDING, to: TaskStatus.READY }));
    const [first, second] = await write((tx) =>
      Promise.all([changeStatuses(tx, promote([a!, b!])), changeStatuses(tx, promote([b!]))]),
    );
    expect(sent).toHaveLength(1);
    expect(first!.map((t) => [t.id, t.status]).sort()).toEqual(
      [
        [a, 'READY'],
        [b, 'READY'],
      ].sort(),
    );
    expect(second).toEqual([]);
  });

  it('a repeat that moves a task on from where the first left it runs after it, as alone', async () => {
    const [a] = await createTasks(1);
    const [first, second] = await write((tx) =>
      Promise.all([
        changeStatuses(tx, [{ id: a!, from: TaskStatus.PENDING, to: TaskStatus.READY }]),
        changeStatuses(tx, [{ id: a!, from: TaskStatus.READY, to: TaskStatus.CANCELLED }]),
      ]),
    );
    expect(sent).toHaveLength(2);
    expect(first!.map((t) => t.status)).toEqual(['READY']);
    expect(second!.map((t) => t.status)).toEqual(['CANCELLED']);
  });

  it('a task announced twice at once is numbered twice, in call order', async () => {
    const [a, b] = await createTasks(2);
    const { tenantId } = server;
    const [one, two] = await write((tx) =>
      Promise.all([taskEvents(tx, tenantId, [a!, b!], 1), taskEvents(tx, tenantId, [a!], 2)]),
    );
    expect(sent).toHaveLength(2); // a's second number waits for its first
    const seqOf = (events: typeof one, id: string) => events!.find((e) => e.task.id === id)!.seq;
    expect(seqOf(two, a!)).toBe(seqOf(one, a!) + 1);
    expect(two!.find((e) => e.task.id === a)!.previousAt).toBe(1);
    expect(one!.map((e) => e.task.id).sort()).toEqual([a, b].sort());
  });
});
