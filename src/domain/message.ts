import { BadInputError } from './errors.js';
import { checkCursor, CONVERSATION_MESSAGES, pageRequest } from './page.js';
import { LIMITS } from './validate.js';

export enum MessageKind {
  CHAT = 'CHAT',
  DELEGATION = 'DELEGATION',
  REPORT = 'REPORT',
  QUESTION = 'QUESTION',
  ANSWER = 'ANSWER',
}

export interface Message {
  id: string;
  tenantId: string;
  kind: MessageKind;
  content: string;
  /** Set when a person sent it; otherwise an agent did (the SENT edge). */
  senderUser: string | null;
  broadcast: boolean;
  conversationId: string;
  /** Position in its conversation, from 1: the stable order. */
  seq: number;
  createdAt: string;
}

export interface Conversation {
  id: string;
  tenantId: string;
  title: string | null;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
}

/** Who sent a message and what it is about: the SENT and ABOUT edges, by message id. */
export interface MessageLinks {
  id: string;
  senderAgentId: string | null;
  aboutTaskId: string | null;
}

/**
 * A message goes to 1 to 100 named agents or, with `broadcast`, to every agent of the
 * tenant; never both, never neither. Returns the distinct recipient ids, in the order given.
 * Throws BAD_USER_INPUT stating the rule and what was received.
 */
export function checkRecipients(toAgentIds: readonly string[], broadcast: boolean): string[] {
  if (broadcast && toAgentIds.length > 0) {
    throw new BadInputError(
      `Give either toAgentIds or broadcast: true, not both; got broadcast with ${toAgentIds.length} recipient(s)`,
      { field: 'toAgentIds' },
    );
  }
  if (!broadcast && toAgentIds.length === 0) {
    throw new BadInputError(
      `A message needs recipients: give toAgentIds (1 to ${LIMITS.recipients} agents) or broadcast: true`,
      { field: 'toAgentIds' },
    );
  }
  if (toAgentIds.length > LIMITS.recipients) {
    throw new BadInputError(
      `toAgentIds may hold at most ${LIMITS.recipients} agents, but got ${toAgentIds.length}; use broadcast: true to reach every agent`,
      { field: 'toAgentIds' },
    );
  }
  return [...new Set(toAgentIds)];
}

/** Where a page of Conversation.messages starts: after the message at `afterSeq` (0: first). */
export interface SeqPageRequest {
  first: number;
  afterSeq: number;
}

/** What a conversation's message cursors are signed for: its list, of that conversation. */
export const conversationMessages = (conversationId: string) =>
  `${CONVERSATION_MESSAGES}@${conversationId}`;

/**
 * Validates first/after for a conversation's messages. Its cursors carry the seq; a cursor of
 * another list, another conversation's too, is refused with BAD_USER_INPUT.
 */
export function seqPageRequest(
  conversationId: string,
  first?: number | null,
  after?: string | null,
): SeqPageRequest {
  const page = pageRequest({ first, after });
  const cursor = page.after && checkCursor(page.after, conversationMessages(conversationId));
  const afterSeq = cursor ? Number(cursor.value) : 0;
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
    throw new BadInputError(
      'after must be an endCursor of Conversation.messages, but got a cursor of another list',
      { field: 'after' },
    );
  }
  return { first: page.first, afterSeq };
}
