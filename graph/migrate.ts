import type { Graph } from './graph.js';
import { MIGRATIONS } from './migrations.js';

/**
 * Applies the migrations not yet recorded as (:Migration) nodes, in order, and records each.
 * Safe to run from several processes at once: statements are idempotent, records are MERGEd.
 * Returns the ids applied by this call.
 */
export async function migrate(graph: Graph, log: (line: string) => void): Promise<number[]> {
  const version = await graph.serverVersion();
  const problem = versionProblem(version);
  if (problem?.refuse) throw new Error(problem.message);
  if (problem) log(problem.message);
  const done = await graph.read((tx) =>
    tx.run<{ id: number }>({ cypher: 'MATCH (m:Migration) RETURN m.id AS id' }),
  );
  const applied = new Set(done.map((r) => r.id));
  const ran: number[] = [];
  for (const m of MIGRATIONS) {
    if (applied.has(m.id)) continue;
    log(`Applying migration ${m.id}: ${m.name}`);
    for (const statement of m.statements) await graph.schema(statement);
    await graph.write((tx) =>
      tx.run({
        cypher:
          'MERGE (m:Migration {id: $id}) ON CREATE SET m.name = $name, m.appliedAt = datetime()',
        params: { id: m.id, name: m.name },
      }),
    );
    ran.push(m.id);
  }
  await graph.schema('CALL db.awaitIndexes(300)');
  return ran;
}

/** The Neo4j this code is tested on; its Cypher needs MIN_NEO4J at least (OPTIONAL CALL). */
const TESTED_NEO4J = [5, 26];
const MIN_NEO4J = [5, 24];

/**
 * What is wrong with a server's version (`agent`, e.g. "Neo4j/5.26.0"), if anything: below
 * MIN_NEO4J the statements fail as syntax errors, so it is refused with what to do; below
 * TESTED_NEO4J it is said. Calendar versions (2025.01 and later) are newer than 5.x. An agent
 * string that names no version is let through.
 */
export function versionProblem(agent: string): { message: string; refuse: boolean } | null {
  const match = /(\d+)\.(\d+)/.exec(agent);
  if (!match) return null;
  const version = [Number(match[1]), Number(match[2])];
  const below = ([major, minor]: number[]) =>
    version[0]! < major! || (version[0] === major && version[1]! < minor!);
  const tested = TESTED_NEO4J.join('.');
  if (below(MIN_NEO4J)) {
    return {
      refuse: true,
      message: `${agent} is too old: this platform needs Neo4j ${MIN_NEO4J.join('.')} or later (it is tested on ${tested}); upgrade it, or unset NEO4J_URI to use the local Neo4j ${tested}`,
    };
  }
  if (below(TESTED_NEO4J)) {
    return {
      refuse: false,
      message: `${agent} is older than Neo4j ${tested}, which this platform is tested on`,
    };
  }
  return null;
}
