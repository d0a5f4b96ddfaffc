/** A Cypher statement apart from its execution: values always travel as parameters. */
export interface CypherQuery {
  cypher: string;
  params?: Record<string, unknown>;
}

export type Row = Record<string, unknown>;

/** The one thing repositories get to talk to Neo4j with: a transaction that runs statements. */
export interface Tx {
  run<T extends Row = Row>(query: CypherQuery): Promise<T[]>;
}

/**
 * A record as a Row. The driver's own Record.toObject walks a transpiled generator, with an
 * iterator and two arrays for each field: about 0.1 MB of garbage for a page of 50 agents
 * (issue 15).
 */
export function rowOf(record: { keys: PropertyKey[]; get(index: number): unknown }): Row {
  const row: Row = {};
  const { keys } = record;
  for (let i = 0; i < keys.length; i++) row[keys[i] as string] = record.get(i);
  return row;
}
