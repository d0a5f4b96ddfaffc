import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectGraph } from '../graph/graph.js';

describe('connecting to Neo4j', () => {
  it('retries an unreachable server with backoff, logging each attempt', async () => {
    // A port that was free a moment ago: nothing answers there.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));

    const lines: string[] = [];
    const uri = `bolt://127.0.0.1:${port}`;
    await expect(
      connectGraph(
        { uri, user: 'neo4j', password: 'irrelevant', database: 'neo4j' },
        { log: (l) => lines.push(l), attempts: 3 },
      ),
    ).rejects.toThrow(`Neo4j at ${uri} is not reachable`);
    expect(lines).toEqual([
      `Neo4j at ${uri} is not reachable (attempt 1): retrying in 0.5 s`,
      `Neo4j at ${uri} is not reachable (attempt 2): retrying in 1 s`,
    ]);
  });
});
