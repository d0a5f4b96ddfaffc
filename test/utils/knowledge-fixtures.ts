import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import type { RecordKnowledgeInput } from '../generated/graphql.js';
import { type TestServer } from './server.js';

/*
 * The knowledge suites' fixtures: the operations they share and the calls both make.
 */

export const KnowledgeFields = graphql(`
  fragment KnowledgeFields on Knowledge {
    id
    kind
    content
    confidence
    tags
    createdAt
    updatedAt
    contributedBy {
      id
      name
    }
    source {
      id
      title
    }
    supersedes {
      id
    }
  }
`);

export const RecordKnowledge = graphql(`
  mutation RecordKnowledge($input: RecordKnowledgeInput!) {
    recordKnowledge(input: $input) {
      ...KnowledgeFields
    }
  }
`);

export const RecordKnowledgeBatch = graphql(`
  mutation RecordKnowledgeBatch($inputs: [RecordKnowledgeInput!]!) {
    recordKnowledgeBatch(inputs: $inputs) {
      id
      content
    }
  }
`);

export const UpdateKnowledge = graphql(`
  mutation UpdateKnowledge($id: ID!, $input: UpdateKnowledgeInput!) {
    updateKnowledge(id: $id, input: $input) {
      ...KnowledgeFields
    }
  }
`);

export const CreateAgent = graphql(`
  mutation CreateKnowledgeAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      id
    }
  }
`);

/** Records one item of knowledge, which must be accepted. */
export async function recordKnowledge(server: TestServer, input: RecordKnowledgeInput) {
  const res = await server.gql(RecordKnowledge, { input });
  expect(res.errors).toBeUndefined();
  return res.data!.recordKnowledge;
}

/** The first error's message and extensions (code, field, id...), flat. */
export const errorOf = (res: {
  errors?: readonly { message: string; extensions?: unknown }[];
}): Record<string, unknown> => ({
  message: res.errors?.[0]?.message,
  ...(res.errors?.[0]?.extensions as Record<string, unknown>),
});
