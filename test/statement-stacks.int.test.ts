import neo4j, { type Driver } from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';

/**
 * Issue 15: neo4j-driver captures and formats a stack trace for every statement it sends (for
 * its own errors), through the source maps tsx installs: about a tenth of the API's CPU on a
 * one-task read. The graph sends statements without one; a failing statement still fails with
 * its code.
 */
describe('statements go out without a captured stack', () => {
  let graph: Graph;
  let driver: Driver;
  beforeAll(async () => {
    const settings = inject('neo4j');
    graph = await connectGraph(settings, { log: () => {}, attempts: 3 });
    driver = neo4j.driver(settings.uri, neo4j.auth.basic(settings.user, settings.password));
  });
  afterAll(async () => {
    await graph?.close();
    await driver?.close();
  });

  /** How many stacks with a frame of the driver were formatted while `work` ran. */
  async function driverStacks(work: () => Promise<unknown>): Promise<number> {
    const original = Error.prepareStackTrace;
    let count = 0;
    Error.prepareStackTrace = (err, frames) => {
      if (frames.some((f) => f.getFileName()?.includes('neo4j-driver'))) count++;
      return `${String(err)}\n${frames.map((f) => `    at ${String(f)}`).join('\n')}`;
    };
    try {
      await work();
    } finally {
      Error.prepareStackTrace = original;
    }
    return count;
  }

  const one = { cypher: 'RETURN 1 AS n' };

  it('the driver alone formats one per statement (what is counted)', async () => {
    const session = driver.session();
    try {
      expect(await driverStacks(() => session.run(one.cypher))).toBeGreaterThan(0);
    } finally {
      await session.close();
    }
  });

  it('reads and writes format none', async () => {
    expect(await driverStacks(() => graph.readAutoCommit((tx) => tx.run(one)))).toBe(0);
    expect(await driverStacks(() => graph.read((tx) => tx.run(one)))).toBe(0);
    expect(await driverStacks(() => graph.write((tx) => tx.run(one)))).toBe(0);
  });

  it('a failing statement still fails with its code', async () => {
    const failing = graph.readAutoCommit((tx) => tx.run({ cypher: 'RETURN nothing AS n' }));
    await expect(failing).rejects.toMatchObject({
      code: 'Neo.ClientError.Statement.SyntaxError',
    });
  });
});
