import type { ApolloServer } from '@apollo/server';
import type { AppContext } from '../server/context.js';
import { createLoaders } from '../loaders/loaders.js';
import { keyView } from '../memory/view.js';

/**
 * MCP tools and resources run GraphQL operations, not services: the same role checks, input
 * validation, tenant scoping, audit of mutations, errors with codes and complexity limits as
 * the API's own clients get, from one piece of code.
 */
export type Operation = <T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
) => Promise<T>;

/** A GraphQL error as an MCP tool reports it: its code and the message that says what to fix. */
export class OperationError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OperationError';
  }
}

/**
 * Runs operations through Apollo with one request's key and tenant, each with loaders of its
 * own: a tool that waits reads the same task again and again, and a loader would answer from
 * its cache (a NOT_FOUND included) every time.
 */
export function operationsFor(apollo: ApolloServer<AppContext>, context: AppContext): Operation {
  return async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const loaders = createLoaders(context.graph, context.tenantId, keyView(context.principal));
    const contextValue = { ...context, loaders };
    const response = await apollo.executeOperation<Record<string, unknown>>(
      { query, variables },
      { contextValue },
    );
    if (response.body.kind !== 'single') {
      throw new OperationError('INTERNAL_SERVER_ERROR', 'an incremental result was not expected');
    }
    const { data, errors } = response.body.singleResult;
    const first = errors?.[0];
    if (first) {
      const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'ERROR';
      throw new OperationError(code, first.message);
    }
    return data as T;
  };
}

/** The tools' and resources' GraphQL documents, checked against the schema by the MCP tests. */
export const DOCUMENTS = {
  submitTask: `mutation McpSubmitTask($input: SubmitTaskInput!) {
    submitTask(input: $input) { id status }
  }`,
  workflow: `query McpWorkflow($taskId: ID!) {
    workflow(taskId: $taskId) {
      root { id title status result error version }
      tasks { id title status result error waitingReason parent { id } dependencies { id }
        toolCallRequests { callId tool args status } }
    }
  }`,
  taskResult: `query McpTaskResult($id: ID!) {
    task(id: $id) { id title status result error updatedAt }
  }`,
  approveTask: `mutation McpApproveTask($id: ID!, $comment: String) {
    approveTask(id: $id, comment: $comment) { id status }
  }`,
  rejectTask: `mutation McpRejectTask($id: ID!, $reason: String) {
    rejectTask(id: $id, reason: $reason) { id status }
  }`,
  approvePlan: `mutation McpApprovePlan($taskId: ID!) {
    approvePlan(taskId: $taskId) { id status }
  }`,
  rejectPlan: `mutation McpRejectPlan($taskId: ID!, $reason: String!) {
    rejectPlan(taskId: $taskId, reason: $reason) { id status }
  }`,
  heldToolCalls: `query McpHeldToolCalls($id: ID!) {
    task(id: $id) { id toolCallRequests { runId callId status } }
  }`,
  resolveToolCall: `mutation McpResolveToolCall($runId: ID!, $callId: String!, $decision: ToolCallDecision!, $args: String, $reason: String) {
    resolveToolCall(runId: $runId, callId: $callId, decision: $decision, args: $args, reason: $reason) { callId status }
  }`,
  searchKnowledge: `query McpSearchKnowledge($query: String!, $first: Int!) {
    searchKnowledge(query: $query, first: $first) {
      score knowledge { id kind content confidence tags }
    }
  }`,
  cancelTask: `mutation McpCancelTask($id: ID!) {
    cancelTask(id: $id) { id status }
  }`,
  searchMemory: `query McpSearchMemory($query: String!, $first: Int!, $asOf: DateTimeISO) {
    searchMemory(query: $query, first: $first, asOf: $asOf) { kind id text score }
  }`,
  agents: `query McpAgents($first: Int, $after: String) {
    agents(first: $first, after: $after) {
      nodes { id name role status active description capabilities { name proficiency } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  chat: `mutation McpChat($agentId: ID!, $message: String!, $conversationId: ID) {
    chat(agentId: $agentId, message: $message, conversationId: $conversationId) {
      conversationId replyId
    }
  }`,
  message: `query McpMessage($id: ID!) { message(id: $id) { id content } }`,
  rateTask: `mutation McpRateTask($taskId: ID!, $score: Float!, $comment: String) {
    rateTask(taskId: $taskId, score: $score, comment: $comment) { id score verdict }
  }`,
} as const;
