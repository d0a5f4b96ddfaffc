import DataLoader from 'dataloader';
import type { Tx } from '../../graph/cypher.js';
import * as messages from '../../graph/message.repository.js';
import type { Message, MessageKind, SeqPageRequest } from '../domain/message.js';
import type { Page } from '../domain/page.js';
import { byId, groupedBy } from './loaders.js';

type Read = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

/** A page of one conversation's messages; its total is the conversation's messageCount. */
export type ConversationPage = Omit<Page<Message>, 'totalCount'>;

/** The message and conversation fields' loaders for one request; see createLoaders. */
export function createMessageLoaders(read: Read, tenantId: string) {
  return {
    message: byId('Message', (ids) => read((tx) => messages.messagesByIds(tx, tenantId, ids))),
    conversation: byId('Conversation', (ids) =>
      read((tx) => messages.conversationsByIds(tx, tenantId, ids)),
    ),
    /** Sender agent id and task id of each message (for `from` and `about`). */
    links: byId('Message', (ids) => read((tx) => messages.linksByMessageIds(tx, tenantId, ids))),
    recipients: groupedBy(
      (ids) => read((tx) => messages.recipientsByMessageIds(tx, tenantId, ids)),
      (r) => r.messageId,
    ),
    /** agent.messages for one set of arguments: newest first, at most `limit` per agent. */
    ofAgents: (limit: number, kind: MessageKind | null) =>
      groupedBy(
        (ids) => read((tx) => messages.messagesOfAgents(tx, tenantId, ids, limit, kind)),
        (r) => r.agentId,
      ),
    /** conversation.messages for one page request: seq order, one page per conversation. */
    conversationPages: (page: SeqPageRequest) =>
      new DataLoader<string, ConversationPage>(async (ids) => {
        const pages = await read((tx) => messages.messagesOfConversations(tx, tenantId, ids, page));
        return ids.map((id) => pages.get(id) ?? { items: [], hasNextPage: false });
      }),
  };
}
