import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { startTestServer, type TestServer } from './server.js';

/*
 * The task suites' fixtures: the operations they share, and a server with an operator and a
 * chief of staff.
 */

export const CreateAgent = graphql(`
  mutation TaskTestCreateAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      id
      name
    }
  }
`);

export const CreateTask = graphql(`
  mutation CreateTask($input: CreateTaskInput!) {
    createTask(input: $input) {
      id
      title
      status
      priority
      attempts
      createdBy
    }
  }
`);

export const CreateTasks = graphql(`
  mutation CreateTasks($inputs: [CreateTaskInput!]!) {
    createTasks(inputs: $inputs) {
      id
      title
    }
  }
`);

export const SetTaskStatus = graphql(`
  mutation SetTaskStatus($id: ID!, $status: TaskStatus!, $result: String, $error: String) {
    setTaskStatus(id: $id, status: $status, result: $result, error: $error) {
      id
      status
      result
      error
    }
  }
`);

export const AssignTask = graphql(`
  mutation AssignTask($id: ID!, $agentId: ID!) {
    assignTask(id: $id, agentId: $agentId) {
      id
      assignee {
        id
      }
    }
  }
`);

export const StatusesOf = graphql(`
  query StatusesOf($filter: TaskFilter, $first: Int, $after: String) {
    tasks(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        title
        status
      }
    }
  }
`);

/** A server with a MASTER_OPERATOR "Operator" and a CHIEF_OF_STAFF "Chief". */
export async function startTaskServer() {
  const server = await startTestServer();
  const mo = await server.gql(CreateAgent, {
    input: { name: 'Operator', role: 'MASTER_OPERATOR' },
  });
  const cos = await server.gql(CreateAgent, { input: { name: 'Chief', role: 'CHIEF_OF_STAFF' } });
  return { server, operator: mo.data!.createAgent, chief: cos.data!.createAgent };
}

/** Creates one task, which must be accepted. */
export async function createTaskOn(
  server: TestServer,
  title: string,
  extra: Record<string, unknown> = {},
) {
  const res = await server.gql(CreateTask, { input: { title, ...extra } });
  expect(res.errors).toBeUndefined();
  return res.data!.createTask;
}
