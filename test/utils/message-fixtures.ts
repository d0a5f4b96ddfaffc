import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import type { SendMessageInput } from '../generated/graphql.js';
import { startTestServer, type TestServer } from './server.js';

/*
 * The message suites' fixtures: the operations they share, a server with three agents and a
 * task, and the calls both suites make.
 */

export const MsgFields = graphql(`
  fragment MsgFields on Message {
    id
    kind
    content
    senderUser
    broadcast
    seq
    createdAt
    from {
      id
    }
    to {
      id
    }
    about {
      id
    }
    conversation {
      id
      title
      messageCount
    }
  }
`);

export const MsgSeedAgents = graphql(`
  mutation MsgSeedAgents($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
      name
    }
  }
`);

export const MsgSeedTask = graphql(`
  mutation MsgSeedTask($input: CreateTaskInput!) {
    createTask(input: $input) {
      id
    }
  }
`);

export const MsgSend = graphql(`
  mutation MsgSend($input: SendMessageInput!) {
    sendMessage(input: $input) {
      ...MsgFields
    }
  }
`);

export const MsgSendMany = graphql(`
  mutation MsgSendMany($inputs: [SendMessageInput!]!) {
    sendMessages(inputs: $inputs) {
      id
      content
      seq
      conversation {
        id
      }
    }
  }
`);

export const MsgCreateConversation = graphql(`
  mutation MsgCreateConversation($title: String) {
    createConversation(title: $title) {
      id
      title
      messageCount
    }
  }
`);

export const MsgConversations = graphql(`
  query MsgConversations($first: Int, $after: String) {
    conversations(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        title
      }
    }
  }
`);

export const MsgList = graphql(`
  query MsgList($filter: MessageFilter, $first: Int, $after: String, $orderBy: ListOrder) {
    messages(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        content
      }
    }
  }
`);

/** A server with the agents Ada, Bob and Cy and one task. */
export async function startMessageServer() {
  const server = await startTestServer();
  const agents = await server.gql(MsgSeedAgents, {
    inputs: ['Ada', 'Bob', 'Cy'].map((name) => ({ name, role: 'MASTER_OPERATOR' as const })),
  });
  expect(agents.errors).toBeUndefined();
  const [ada, bob, cy] = agents.data!.createAgents.map((a) => a.id) as [string, string, string];
  const created = await server.gql(MsgSeedTask, { input: { title: 'Write the report' } });
  expect(created.errors).toBeUndefined();
  return { server, ada, bob, cy, task: created.data!.createTask.id };
}

/** Sends one message, which must be accepted. */
export async function sendMessage(server: TestServer, input: SendMessageInput) {
  const res = await server.gql(MsgSend, { input });
  expect(res.errors).toBeUndefined();
  return res.data!.sendMessage;
}

export const createConversationTitled = async (server: TestServer, title: string) =>
  (await server.gql(MsgCreateConversation, { title })).data!.createConversation.id;
export const countMessages = async (server: TestServer) =>
  (await server.gql(MsgList, { first: 1 })).data!.messages.totalCount;
export const countConversations = async (server: TestServer) =>
  (await server.gql(MsgConversations, { first: 1 })).data!.conversations.totalCount;
