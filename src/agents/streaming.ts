import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { TOPICS, type StepTokenEvent } from '../../subscriptions/topics.js';

/** Publishes every token a step's model produces on STEP_TOKEN (stepTokens subscription). */
export class StepTokenPublisher extends BaseCallbackHandler {
  name = 'step-token-publisher';
  /** Makes invoke() stream from the model (with its usage), so tokens reach handleLLMNewToken. */
  readonly lc_prefer_streaming = true;

  constructor(
    private readonly pubsub: PubSub,
    private readonly step: Omit<StepTokenEvent, 'token'>,
  ) {
    super();
  }

  override handleLLMNewToken(token: string): void {
    if (token) this.pubsub.publish(TOPICS.stepToken, { ...this.step, token });
  }
}
