import { AIMessage, HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import * as work from '../../graph/agent-work.repository.js';
import { messagesByIds } from '../../graph/message.repository.js';
import { agentsByIds } from '../../graph/agent.repository.js';
import { TOPICS } from '../../subscriptions/topics.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { NotFoundError } from '../domain/errors.js';
import type { Message } from '../domain/message.js';
import { LIMITS, requiredText } from '../domain/validate.js';
import type { StepContext } from '../engine/executor.js';
import { systemPrompt } from './prompts.js';
import { sendAgentMessage } from './messages.js';
import type { AgentRuntime } from './runtime.js';

/** Messages of a conversation that go into the prompt as they are; older ones are summarised. */
export const CHAT_WINDOW = 12;

/**
 * A person talks to an agent. The conversation is kept as Message nodes; the last
 * CHAT_WINDOW messages go back into the prompt, older ones as a running summary kept on the
 * conversation. The reply streams token by token on CHAT_TOKEN, then is stored.
 */
export async function chat(
  rt: AgentRuntime,
  pubsub: PubSub,
  input: {
    tenantId: string;
    actor: string;
    agentId: string;
    message: string;
    conversationId?: string | null;
  },
): Promise<{ reply: Message; conversationId: string }> {
  const { tenantId } = input;
  const text = requiredText('message', input.message, LIMITS.content);
  const [agent] = await rt.uow.read((tx) => agentsByIds(tx, tenantId, [input.agentId]));
  if (!agent) throw new NotFoundError('Agent', input.agentId);
  const conversationId =
    input.conversationId ??
    work.stableId(tenantId, 'chat', agent.id, input.actor, text, String(Date.now()));
  // `!= null`: an empty id names nothing (NOT_FOUND), it does not start a conversation.
  if (input.conversationId != null) {
    const known = await rt.uow.read((tx) => work.conversationTenant(tx, input.conversationId!));
    if (known !== tenantId) throw new NotFoundError('Conversation', input.conversationId);
  }
  const base = {
    tenantId,
    conversationId,
    conversationTitle: `Chat with ${agent.name}`,
    broadcast: false,
    aboutTaskId: null,
  };
  const asked = await rt.uow.run((tx, emit) =>
    sendAgentMessage(tx, emit, {
      ...base,
      id: work.stableId(conversationId, 'user', String(Date.now()), text),
      kind: 'CHAT',
      content: text,
      fromAgentId: null,
      senderUser: input.actor,
      toAgentIds: [agent.id],
    }),
  );

  // A step-like context, so calls are recorded (an :LLMCall per call, no run).
  const step = {
    task: { id: null, tenantId },
    agent,
    run: { id: null, attempt: 0 },
    inputs: {},
  } as unknown as StepContext;
  const history = await rt.uow.read((tx) => work.conversationHistory(tx, tenantId, conversationId));
  const older = history.slice(0, Math.max(0, history.length - CHAT_WINDOW));
  const recent = history.slice(-CHAT_WINDOW);
  let summary = await rt.uow.read((tx) => work.conversationSummary(tx, conversationId));
  if (older.length > 0 && summary.upTo < older.at(-1)!.seq) {
    const summariser = rt.model(
      { purpose: 'synthesis', agentModel: agent.model },
      step,
      'synthesis',
    );
    const reply = await summariser.invoke([
      new SystemMessage(
        systemPrompt(agent, 'synthesis', 'Summarise this conversation so far in a few sentences.'),
      ),
      new HumanMessage(
        [summary.text, ...older.map((m) => `${m.sender}: ${m.content}`)].filter(Boolean).join('\n'),
      ),
    ]);
    summary = { text: String(reply.content), upTo: older.at(-1)!.seq };
    await rt.uow.run((tx) =>
      work.saveConversationSummary(tx, conversationId, summary.text, summary.upTo),
    );
  }

  const messages: BaseMessage[] = [
    new SystemMessage(
      systemPrompt(
        agent,
        'chat',
        `You are talking with ${input.actor}.${summary.text ? ` Earlier in this conversation: ${summary.text}` : ''}`,
      ),
    ),
    ...recent.map((m) =>
      m.fromAgentId === agent.id ? new AIMessage(m.content) : new HumanMessage(m.content),
    ),
  ];
  const model = rt.model({ purpose: 'chat', agentModel: agent.model }, step, 'chat');
  let answer = '';
  let index = 0;
  for await (const chunk of await model.stream(messages)) {
    const token = typeof chunk.content === 'string' ? chunk.content : '';
    if (!token) continue;
    answer += token;
    pubsub.publish(TOPICS.chatToken, {
      tenantId,
      conversationId,
      agentId: agent.id,
      token,
      index: index++,
      done: false,
    });
  }
  pubsub.publish(TOPICS.chatToken, {
    tenantId,
    conversationId,
    agentId: agent.id,
    token: '',
    index,
    done: true,
  });

  const replyId = work.stableId(asked, 'reply');
  await rt.uow.run((tx, emit) =>
    sendAgentMessage(tx, emit, {
      ...base,
      id: replyId,
      kind: 'CHAT',
      content: answer,
      fromAgentId: agent.id,
      senderUser: null,
      toAgentIds: [],
    }),
  );
  const [reply] = await rt.uow.read((tx) => messagesByIds(tx, tenantId, [replyId]));
  return { reply: reply!, conversationId };
}
