import { buildSchema } from 'graphql';

/*
 * The limits suites' fixtures: a small schema of agents and tasks, and documents of a given
 * depth or number of aliases.
 */

export const schema = buildSchema(`
  type Query {
    agents(first: Int): [Agent!]!
    agent(id: ID!): Agent
    tasks(first: Int = 50): [Task!]!
  }
  type Agent {
    id: ID!
    name: String!
    manager: Agent
    tasks(first: Int): [Task!]!
  }
  type Task {
    id: ID!
    title: String!
    subtasks(first: Int): [Task!]!
  }
`);

/** `{ agent { manager { ... { id } } } }` with exactly `depth` levels of fields. */
export function nested(depth: number): string {
  return `{ agent(id: "a") { ${'manager { '.repeat(depth - 2)}id${' }'.repeat(depth - 1)} }`;
}

export function aliases(count: number): string {
  const fields = Array.from({ length: count }, (_, i) => `a${i}: id`).join(' ');
  return `{ agent(id: "a") { ${fields} } }`;
}
