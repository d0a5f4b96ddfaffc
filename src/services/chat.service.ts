import { chat } from '../agents/chat.js';
import type { AgentRuntime } from '../agents/runtime.js';
import type { PubSub } from '../../subscriptions/pubsub.js';

/** A person talking to any agent; the reply streams on chatTokens. */
export class ChatService {
  constructor(
    private readonly runtime: AgentRuntime,
    private readonly pubsub: PubSub,
  ) {}

  send(
    tenantId: string,
    actor: string,
    agentId: string,
    message: string,
    conversationId?: string | null,
  ) {
    return chat(this.runtime, this.pubsub, { tenantId, actor, agentId, message, conversationId });
  }
}
