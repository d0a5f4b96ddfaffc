import * as work from '../../graph/agent-work.repository.js';
import type { Tx } from '../../graph/cypher.js';
import { messagesByIds } from '../../graph/message.repository.js';
import { TOPICS } from '../../subscriptions/topics.js';
import type { Emit } from '../services/unit-of-work.js';

/**
 * Writes an agent's message (once: MERGE by id) and announces it on messageSent after the
 * commit, so people watching see the organisation talk.
 */
export async function sendAgentMessage(
  tx: Tx,
  emit: Emit,
  draft: work.MessageDraft,
): Promise<string> {
  const id = await work.writeMessage(tx, draft);
  const [message] = await messagesByIds(tx, draft.tenantId, [id]);
  if (message) {
    emit({
      topic: TOPICS.messageSent,
      payload: {
        tenantId: draft.tenantId,
        message,
        senderAgentId: draft.fromAgentId,
        recipientIds: draft.toAgentIds,
      },
    });
  }
  return id;
}
