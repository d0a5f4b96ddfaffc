import { chat } from '../agents/chat.js';
import type { AgentRuntime } from '../agents/runtime.js';
import type { PubSub } from '../../subscriptions/pubsub.js';

/**
 * A person talking to any agent. `send` answers once the person's message is stored; the
 * reply is made in the background (its tokens stream on chatTokens, then it is stored and
 * announced on messageSent), so a slow model never holds an HTTP request open.
 */
export class ChatService {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly runtime: AgentRuntime,
    private readonly pubsub: PubSub,
  ) {}

  async send(
    tenantId: string,
    actor: string,
    agentId: string,
    message: string,
    conversationId?: string | null,
  ) {
    const input = { tenantId, actor, agentId, message, conversationId };
    const turn = await chat(this.runtime, this.pubsub, input, this.stopping.signal);
    const settled = turn.reply.then(
      () => undefined,
      () => undefined, // logged and announced by chat()
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
    return turn;
  }

  /** Resolves once every reply started so far is stored or has failed. */
  async idle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  /** Shutdown: aborts the replies in flight (each fails with its error announced) and waits. */
  async close(): Promise<void> {
    this.stopping.abort(new Error('the server is stopping'));
    await this.idle();
  }
}
