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
