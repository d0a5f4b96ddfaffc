import type { Graph } from './graph.js';
import { MIGRATIONS } from './migrations.js';

/**
 * Applies the migrations not yet recorded as (:Migration) nodes, in order, and records each.
 * Safe to run from several processes at once: statements are idempotent, records are MERGEd.
 * Returns the ids applied by this call.
 */
export async function migrate(graph: Graph, log: (line: string) => void): Promise<number[]> {
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
