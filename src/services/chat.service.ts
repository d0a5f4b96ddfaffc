import { chat } from '../agents/chat.js';
import type { AgentRuntime } from '../agents/runtime.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { LimitExceededError, UnavailableError } from '../domain/errors.js';

/** Replies one organisation may have in the making at once in this process: the model work
 * outlives its request, so without a bound one tenant could start any number of it. */
export const MAX_REPLIES_PER_TENANT = 20;

/**
 * A person talking to any agent. `send` answers once the person's message is stored; the
 * reply is made in the background (its tokens stream on chatTokens, then it is stored and
 * announced on messageSent), so a slow model never holds an HTTP request open.
 */
export class ChatService {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly perTenant = new Map<string, number>();
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
    if (this.stopping.signal.aborted) {
      throw new UnavailableError('The server is stopping; send the message again in a moment', {
        retryAfterSeconds: 5,
      });
    }
    const running = this.perTenant.get(tenantId) ?? 0;
    if (running >= MAX_REPLIES_PER_TENANT) {
      throw new LimitExceededError(
        'chatRepliesPerTenant',
        `${running} chat replies of this organisation are still being written (at most ${MAX_REPLIES_PER_TENANT} at once); wait for one on chatTokens, then send again`,
      );
    }
    // Counted before the first await, so concurrent sends and close() both see this reply.
    this.perTenant.set(tenantId, running + 1);
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    this.inFlight.add(settled);
    void settled.finally(() => {
      this.inFlight.delete(settled);
      const left = (this.perTenant.get(tenantId) ?? 1) - 1;
      if (left > 0) this.perTenant.set(tenantId, left);
      else this.perTenant.delete(tenantId);
    });
    try {
      const input = { tenantId, actor, agentId, message, conversationId };
      const turn = await chat(this.runtime, this.pubsub, input, this.stopping.signal);
      // Failures are logged and announced on chatTokens by chat().
      void turn.reply.then(settle, settle);
      return turn;
    } catch (err) {
      settle();
      throw err;
    }
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
