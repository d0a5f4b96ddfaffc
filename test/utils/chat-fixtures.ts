import { loadConfig } from '../../src/config/config.js';
import { graphql } from '../generated/index.js';
import { type ChatMessage, type ScriptedOpenAI } from './openai-server.js';
import { startTestServer, type TestServer } from './server.js';

/*
 * The chat suites' fixtures: the chat mutation, a server with one agent to chat with, the
 * scripted model's settings, and the LLMCall records a chat leaves.
 */

export const Chat = graphql(`
  mutation ChatWith($agentId: ID!, $message: String!, $conversationId: ID) {
    chat(agentId: $agentId, message: $message, conversationId: $conversationId) {
      conversationId
      replyId
      message {
        kind
        content
        seq
      }
    }
  }
`);

export const text = (m: ChatMessage) =>
  typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('');
export const isSummary = (messages: ChatMessage[]) => text(messages[0]!).includes('Summarise');
export const scriptedLlm = (scripted: Pick<ScriptedOpenAI, 'baseURL'>) =>
  loadConfig({
    LLM_PROVIDER: 'compatible',
    LLM_BASE_URL: scripted.baseURL,
    LLM_MODEL: 'gpt-4o-mini',
  }).llm;

export const countCalls = async (server: TestServer, purpose: string) => {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ n: number }>({
      cypher: 'MATCH (c:LLMCall {tenantId: $t, purpose: $purpose}) RETURN count(c) AS n',
      params: { t: server.tenantId, purpose },
    }),
  );
  return row!.n;
};

/** Polls `probe` until it holds (LLMCall records are written just after the call ends). */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A server with the agent "Helper" to chat with. */
export async function startChatServer() {
  const server = await startTestServer();
  const res = await server.gql(
    `mutation { createAgent(input: { name: "Helper", role: MASTER_OPERATOR }) { id } }`,
  );
  return { server, agentId: (res.data as { createAgent: { id: string } }).createAgent.id };
}
