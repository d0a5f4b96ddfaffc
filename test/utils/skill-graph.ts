import { ratePerson } from './person-rating.js';
import { type TestServer } from './server.js';

/*
 * The skills suites' reads and writes of the graph: a tenant's rows, a person's rating of a root
 * task, and the tenant's skills.
 */

/** The rows of `cypher` over the server's tenant ($tenantId). */
export const rows = <T extends Record<string, unknown>>(
  server: TestServer,
  cypher: string,
  params: Record<string, unknown> = {},
) =>
  server.graph.read((tx) =>
    tx.run<T>({ cypher, params: { tenantId: server.tenantId, ...params } }),
  );

/** A person's rating of a root task: it outranks every other evaluation. */
export const rate = (server: TestServer, taskId: string, score: number) =>
  server.graph.write((tx) => ratePerson(tx, server.tenantId, taskId, score));

export const skills = (server: TestServer) =>
  rows<{ id: string; status: string; strength: number; steps: string; family: string }>(
    server,
    `MATCH (k:Knowledge {tenantId: $tenantId, kind: 'SKILL'})
     RETURN k.id AS id, k.status AS status, k.strength AS strength, k.steps AS steps,
            k.family AS family ORDER BY k.createdAt`,
  );
