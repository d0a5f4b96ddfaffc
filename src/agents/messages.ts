import * as work from '../../graph/agent-work.repository.js';
import type { Tx } from '../../graph/cypher.js';
import { messagesByIds } from '../../graph/message.repository.js';
import { TOPICS } from '../../subscriptions/topics.js';
import type { Message } from '../domain/message.js';
import type { Emit } from '../services/unit-of-work.js';

/**
 * Writes an agent's message (once: MERGE by id) and announces it on messageSent after the
 * commit, so people watching see the organisation talk. Returns the stored message (none when
 * its id is another tenant's), read back once here: callers should not read it again, since
 * the write holds its agents' locks until the commit, and every round trip until then makes
 * other writers to those agents (concurrent chats with one agent) wait.
 */
export async function sendAgentMessage(
  tx: Tx,
  emit: Emit,
  draft: work.MessageDraft,
): Promise<Message | undefined> {
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
  return message;
}
