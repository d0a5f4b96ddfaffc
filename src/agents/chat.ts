import { AIMessage, HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import * as work from '../../graph/agent-work.repository.js';
import { withoutDeadline } from '../../graph/deadline.js';
import { auditScope } from '../audit-scope.js';
import { chatContext, saveChatSummary } from '../../graph/chat.repository.js';
import type { ChatLine } from '../../graph/chat.repository.js';
import { agentsByIds } from '../../graph/agent.repository.js';
import { TOPICS } from '../../subscriptions/topics.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import type { Agent } from '../domain/agent.js';
import { NotFoundError } from '../domain/errors.js';
import type { Message } from '../domain/message.js';
import { LIMITS, requiredText } from '../domain/validate.js';
import type { StepContext } from '../engine/executor.js';
import { systemPrompt } from './prompts.js';
import { sendAgentMessage } from './messages.js';
import { queueChatTurn } from '../memory/ingest/sources.js';
import { refuseOverPendingEpisodes } from '../services/backlog.js';
import type { AgentRuntime } from './runtime.js';

/** Messages of a conversation that go into the prompt as they are; older ones are summarised. */
export const CHAT_WINDOW = 12;
/** At most this many not-yet-summarised messages are folded into the summary per turn. */
export const CHAT_SUMMARY_BATCH = 24;

/** A chat turn as it is answered at once: the person's stored message, and the reply to come. */
export interface ChatTurn {
  conversationId: string;
  /** The person's message, already stored. */
  message: Message;
  /** The id the reply will be stored under (its tokens stream on chatTokens first). */
  replyId: string;
  /** Settles when the reply is stored; rejects when it failed (already logged and announced). */
  reply: Promise<Message>;
}

interface ChatInput {
  tenantId: string;
  actor: string;
  agentId: string;
  message: string;
  conversationId?: string | null;
}

/**
 * A person talks to an agent. Stores the person's message and answers at once (issue 10: a
 * model call may outlast the HTTP request); the reply is made in the background: the running
 * summary is brought up to date from `summaryUpTo` with only the messages since, the last
 * CHAT_WINDOW messages go into the prompt verbatim, the reply streams token by token on
 * CHAT_TOKEN and is then stored as message `replyId` (announced on messageSent).
 * Throws NOT_FOUND for an unknown agent or conversation, BAD_USER_INPUT for an empty message.
 */
export async function chat(
  rt: AgentRuntime,
  pubsub: PubSub,
  input: ChatInput,
  signal?: AbortSignal,
): Promise<ChatTurn> {
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
  // sendAgentMessage's read-back is the answer: no second read while the agent is locked.
  // The turn becomes an episode once the reply is stored, whatever the count then (its model
  // call is spent): refused here, before the person's message is, at the cap.
  const message = await rt.uow.run(async (tx, emit) => {
    await refuseOverPendingEpisodes(tx, tenantId, rt.backlog, 'This chat turn', 1);
    return (await sendAgentMessage(tx, emit, {
      ...base,
      id: work.stableId(conversationId, 'user', String(Date.now()), text),
      kind: 'CHAT',
      content: text,
      fromAgentId: null,
      senderUser: input.actor,
      toAgentIds: [agent.id],
    }))!;
  });
  const replyId = work.stableId(message.id, 'reply');

  const event = { tenantId, conversationId, agentId: agent.id, replyId };
  const storeReply = (answer: string) =>
    rt.uow.run(async (tx, emit) => {
      const stored = await sendAgentMessage(tx, emit, {
        ...base,
        id: replyId,
        kind: 'CHAT',
        content: answer,
        fromAgentId: agent.id,
        senderUser: null,
        toAgentIds: [],
      });
      // The turn is an episode of the agent's own memory, ingested later (issue 11).
      await queueChatTurn(tx, tenantId, {
        agentId: agent.id,
        agentName: agent.name,
        person: input.actor,
        question: text,
        replyId,
        reply: answer,
      });
      return stored!;
    });
  // The reply is work of its own: the request's time limit and audit record are not its (a
  // real model's reply outlives the request it was asked in).
  const reply = withoutDeadline(() =>
    auditScope.exit(async () => {
      const turn = { ...input, agent, conversationId, replyId };
      const answer = await streamReply(rt, pubsub, turn, signal);
      const stored = await storeReply(answer.text);
      // The closing token says the reply is stored: it follows the commit.
      const closing = { token: '', index: answer.tokens, done: true, error: null };
      pubsub.publish(TOPICS.chatToken, { ...event, ...closing });
      return stored;
    }),
  );
  reply.catch((error: unknown) => {
    rt.logger.warn(
      { err: error, tenantId, conversationId, agentId: agent.id, replyId },
      'chat reply failed',
    );
    const message = error instanceof Error ? error.message : String(error);
    pubsub.publish(TOPICS.chatToken, {
      ...event,
      token: '',
      index: -1,
      done: true,
      error: message,
    });
  });
  return { conversationId, message, replyId, reply };
}

type Turn = ChatInput & { agent: Agent; conversationId: string; replyId: string };

/**
 * Summarises what is due, then streams the reply's tokens on CHAT_TOKEN (the closing token is
 * the caller's, once the reply is stored); returns its text and how many tokens it streamed.
 */
async function streamReply(
  rt: AgentRuntime,
  pubsub: PubSub,
  turn: Turn,
  signal?: AbortSignal,
): Promise<{ text: string; tokens: number }> {
  const { tenantId, agent, conversationId, replyId } = turn;
  // A step-like context, so calls are recorded (an :LLMCall per call, no run).
  const step = {
    task: { id: null, tenantId },
    agent,
    run: { id: null, attempt: 0 },
    inputs: {},
  } as unknown as StepContext;
  const context = await rt.uow.read((tx) =>
    chatContext(tx, tenantId, conversationId, {
      window: CHAT_WINDOW,
      catchUp: CHAT_SUMMARY_BATCH,
    }),
  );
  if (!context) throw new NotFoundError('Conversation', conversationId);
  const recent = context.lines.slice(-CHAT_WINDOW);
  const due = context.lines.slice(0, Math.max(0, context.lines.length - CHAT_WINDOW));
  const summary = due.length
    ? await summarise(rt, step, turn, context.summary, due, signal)
    : context.summary;

  const messages: BaseMessage[] = [
    new SystemMessage(
      systemPrompt(
        agent,
        'chat',
        `You are talking with ${turn.actor}.${summary ? ` Earlier in this conversation: ${summary}` : ''}`,
      ),
    ),
    ...recent.map((m) =>
      m.fromAgentId === agent.id ? new AIMessage(m.content) : new HumanMessage(m.content),
    ),
  ];
  const model = rt.model({ purpose: 'chat', agentModel: agent.model }, step, 'chat');
  const event = { tenantId, conversationId, agentId: agent.id, replyId, error: null };
  let answer = '';
  let index = 0;
  for await (const chunk of await model.stream(messages, { signal })) {
    const token = typeof chunk.content === 'string' ? chunk.content : '';
    if (!token) continue;
    answer += token;
    pubsub.publish(TOPICS.chatToken, { ...event, token, index: index++, done: false });
  }
  return { text: answer, tokens: index };
}

/**
 * The running summary, brought forward by the messages it does not cover yet: the model sees
 * the previous summary and those messages only (issue 10: it re-read all of them every turn).
 * Booked under purpose `chat`.
 */
async function summarise(
  rt: AgentRuntime,
  step: StepContext,
  turn: Turn,
  previous: string,
  due: ChatLine[],
  signal?: AbortSignal,
): Promise<string> {
  const summariser = rt.model({ purpose: 'chat', agentModel: turn.agent.model }, step, 'chat');
  const reply = await summariser.invoke(
    [
      // The 'synthesis' marker asks the offline model for a summary rather than a chat answer.
      new SystemMessage(
        systemPrompt(
          turn.agent,
          'synthesis',
          'Summarise this conversation so far in a few sentences.',
        ),
      ),
      new HumanMessage(
        [previous, ...due.map((m) => `${m.sender}: ${m.content}`)].filter(Boolean).join('\n'),
      ),
    ],
    { signal },
  );
  const summary = { text: String(reply.content), upTo: due.at(-1)!.seq };
  await rt.uow.run((tx) => saveChatSummary(tx, turn.tenantId, turn.conversationId, summary));
  return summary.text;
}
