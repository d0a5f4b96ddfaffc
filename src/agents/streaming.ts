import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { TOPICS, type StepTokenEvent } from '../../subscriptions/topics.js';

/**
 * Publishes every token a step's model produces on STEP_TOKEN (stepTokens subscription), in
 * the order the model produced them. The step's ancestors are read once, as the first token
 * comes (tokens wait for that read, in order); a failed read publishes them with none.
 */
export class StepTokenPublisher extends BaseCallbackHandler {
  name = 'step-token-publisher';
  /** Makes invoke() stream from the model (with its usage), so tokens reach handleLLMNewToken. */
  readonly lc_prefer_streaming = true;
  private ancestorIds: string[] | null = null;
  private pending: Promise<void> | null = null;

  constructor(
    private readonly pubsub: PubSub,
    private readonly step: Omit<StepTokenEvent, 'token' | 'ancestorIds'>,
    private readonly ancestors: () => Promise<string[]>,
  ) {
    super();
  }

  override handleLLMNewToken(token: string): void {
    if (!token) return;
    // Every token through one chain: none overtakes one still waiting for the read.
    this.pending = (this.pending ?? this.readAncestors()).then(() => {
      this.pubsub.publish(TOPICS.stepToken, {
        ...this.step,
        ancestorIds: this.ancestorIds!,
        token,
      });
    });
  }

  private async readAncestors(): Promise<void> {
    this.ancestorIds = await this.ancestors().catch(() => []);
  }
}
