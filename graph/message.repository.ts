import neo4j from 'neo4j-driver';
import type { Agent } from '../src/domain/agent.js';
import {
  conversationMessages,
  type Conversation,
  type Message,
  type MessageKind,
  type MessageLinks,
} from '../src/domain/message.js';
import { encodeCursor, type Page, type PageRequest } from '../src/domain/page.js';
import type { CypherQuery, Tx } from './cypher.js';
import { fulltextNodes, luceneQuery, tenantLuceneQuery } from './fulltext.js';
import { toAgent, toConversation, toMessage } from './mappers.js';
import { readPage, type NodeLike, type Sort } from './page.js';
import { walkFrom, type Linked } from './page-direct.js';
import { lockAndBump } from './locks.js';

/** A message ready to be written: validated, ids checked, its conversation chosen. */
export interface NewMessage {
  id: string;
  kind: MessageKind;
  content: string;
  senderUser: string | null;
  fromAgentId: string | null;
  toAgentIds: string[];
  broadcast: boolean;
  aboutTaskId: string | null;
  conversationId: string;
}

export interface MessageFilter {
  kind?: MessageKind;
  /** Sent by or to this agent; a broadcast counts as sent to every agent that existed then. */
  agentId?: string;
  conversationId?: string;
  aboutTaskId?: string;
  /** Words to find in the content (full-text index `message_text`); user text, escaped here. */
  text?: string;
}

export { unknownIds } from './ids.repository.js';

/** Creates conversations with the given ids and titles, each with no messages yet. */
export async function createConversations(
  tx: Tx,
  tenantId: string,
  conversations: { id: string; title: string | null }[],
): Promise<Conversation[]> {
  if (conversations.length === 0) return [];
  const rows = await tx.run<{ c: NodeLike }>({
    cypher: `
      UNWIND $conversations AS conv
      CREATE (c:Conversation {id: conv.id, tenantId: $tenantId, title: conv.title,
                              messageCount: $zero, createdAt: datetime(), updatedAt: datetime()})
      RETURN c`,
    params: { tenantId, conversations, zero: neo4j.int(0) },
  });
  return rows.map((r) => toConversation(r.c));
}

/**
 * Writes the messages in the order given. Each one first takes its conversation's write lock
 * and bumps its messageCount (lockAndBump), and takes the new count as its `seq`: concurrent
 * senders to one conversation get distinct, gap-free positions.
 * Every referenced node must exist (the caller checks); returns the messages in input order.
 */
export async function insertMessages(
  tx: Tx,
  tenantId: string,
  messages: NewMessage[],
): Promise<Message[]> {
  if (messages.length === 0) return [];
  const rows = await tx.run<{ msg: NodeLike }>(insertMessagesQuery(tenantId, messages));
  const byId = new Map(rows.map((r) => [String(r.msg.properties.id), toMessage(r.msg)]));
  return messages.map((m) => byId.get(m.id)!);
}

/** The write of insertMessages; a subquery per row keeps the count bumps in input order. */
export function insertMessagesQuery(tenantId: string, messages: NewMessage[]): CypherQuery {
  return {
    cypher: `
      UNWIND $messages AS m
      CALL (m) {
        MATCH (c:Conversation {tenantId: $tenantId, id: m.conversationId})
        USING INDEX SEEK c:Conversation(id)
        ${lockAndBump('c', 'Conversation', 'messageCount')}
        SET c.updatedAt = datetime()
        CREATE (msg:Message {id: m.id, tenantId: $tenantId, kind: m.kind, content: m.content,
                             senderUser: m.senderUser, broadcast: m.broadcast,
                             conversationId: c.id, seq: c.messageCount, createdAt: datetime()})
        CREATE (msg)-[:IN]->(c)
        RETURN msg
      }
      CALL (m, msg) {
        MATCH (a:Agent {tenantId: $tenantId, id: m.fromAgentId})
        CREATE (a)-[:SENT]->(msg)
      }
      CALL (m, msg) {
        UNWIND m.toAgentIds AS toId
        MATCH (a:Agent {tenantId: $tenantId, id: toId}) USING INDEX SEEK a:Agent(id)
        CREATE (msg)-[:TO]->(a)
      }
      CALL (m, msg) {
        MATCH (t:Task {tenantId: $tenantId, id: m.aboutTaskId}) USING INDEX SEEK t:Task(id)
        CREATE (msg)-[:ABOUT]->(t)
      }
      RETURN msg`,
    params: { tenantId, messages },
  };
}

/** For the DataLoaders: messages or conversations by id, any order; unknown ids are absent. */
async function nodesByIds(
  tx: Tx,
  label: 'Message' | 'Conversation',
  tenantId: string,
  ids: readonly string[],
): Promise<NodeLike[]> {
  const rows = await tx.run<{ n: NodeLike }>({
    cypher: `UNWIND $ids AS id MATCH (n:${label} {tenantId: $tenantId, id: id})
      USING INDEX SEEK n:${label}(id) RETURN n`,
    params: { tenantId, ids },
  });
  return rows.map((r) => r.n);
}

export const messagesByIds = async (tx: Tx, tenantId: string, ids: readonly string[]) =>
  (await nodesByIds(tx, 'Message', tenantId, ids)).map(toMessage);

export const conversationsByIds = async (tx: Tx, tenantId: string, ids: readonly string[]) =>
  (await nodesByIds(tx, 'Conversation', tenantId, ids)).map(toConversation);

/** The sending agent and the task of each message; absent for unknown messages. */
export async function linksByMessageIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<MessageLinks[]> {
  return tx.run<{ id: string; senderAgentId: string | null; aboutTaskId: string | null }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (m:Message {tenantId: $tenantId, id: id}) USING INDEX SEEK m:Message(id)
      OPTIONAL MATCH (a:Agent)-[:SENT]->(m)
      OPTIONAL MATCH (m)-[:ABOUT]->(t:Task)
      RETURN id, head(collect(DISTINCT a.id)) AS senderAgentId,
             head(collect(DISTINCT t.id)) AS aboutTaskId`,
    params: { tenantId, ids },
  });
}

/** The named recipients (TO edges) of each message, by name; broadcasts have none. */
export async function recipientsByMessageIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<{ messageId: string; agent: Agent }[]> {
  const rows = await tx.run<{ messageId: string; a: NodeLike }>({
    cypher: `
      UNWIND $ids AS messageId
      MATCH (owner:Message {tenantId: $tenantId, id: messageId})-[:TO]->(a:Agent) USING INDEX SEEK owner:Message(id)
      RETURN messageId, a
      ORDER BY a.name`,
    params: { tenantId, ids },
  });
  return rows.map((r) => ({ messageId: r.messageId, agent: toAgent(r.a) }));
}

/**
 * Messages sent or received by each agent (broadcasts since it was created included), newest
 * first, at most `first` per agent, optionally of one kind: one statement for all the agents.
 * Its work grows with the agent's own messages, not with the tenant's broadcasts.
 */
export async function messagesOfAgents(
  tx: Tx,
  tenantId: string,
  agentIds: readonly string[],
  first: number,
  kind: MessageKind | null,
): Promise<{ agentId: string; message: Message }[]> {
  const rows = await tx.run<{ agentId: string; m: NodeLike }>({
    cypher: `
      UNWIND $agentIds AS agentId
      CALL (agentId) {
        MATCH (a:Agent {tenantId: $tenantId, id: agentId}) USING INDEX SEEK a:Agent(id)
        CALL (a) {
          MATCH (a)-[:SENT]->(m:Message) RETURN m
          UNION
          MATCH (m:Message)-[:TO]->(a) RETURN m
          UNION
          ${broadcastsSince('m', 'a', { kind: kind !== null, dir: 'DESC', tieBreak: ['seq', 'id'] })}
        }
        WITH m WHERE $kind IS NULL OR m.kind = $kind
        RETURN m ORDER BY m.createdAt DESC, m.seq DESC, m.id DESC LIMIT $limit
      }
      RETURN agentId, m`,
    params: { tenantId, agentIds, kind, limit: neo4j.int(first) },
  });
  return rows.map((r) => ({ agentId: r.agentId, message: toMessage(r.m) }));
}

/**
 * One page of each conversation's messages in `seq` order, after `afterSeq`: one statement
 * for all the conversations. Cursors carry the seq, so pages never shift.
 */
export async function messagesOfConversations(
  tx: Tx,
  tenantId: string,
  conversationIds: readonly string[],
  page: { first: number; afterSeq: number },
): Promise<Map<string, Omit<Page<Message>, 'totalCount'>>> {
  const rows = await tx.run<{ conversationId: string; messages: NodeLike[] }>({
    cypher: `
      UNWIND $conversationIds AS conversationId
      CALL (conversationId) {
        MATCH (owner:Conversation {tenantId: $tenantId, id: conversationId})<-[:IN]-(m:Message) USING INDEX SEEK owner:Conversation(id)
        WHERE m.seq > $afterSeq
        WITH m ORDER BY m.seq LIMIT $limit
        RETURN collect(m) AS messages
      }
      RETURN conversationId, messages`,
    params: {
      tenantId,
      conversationIds,
      afterSeq: neo4j.int(page.afterSeq),
      limit: neo4j.int(page.first + 1),
    },
  });
  const pages = new Map<string, Omit<Page<Message>, 'totalCount'>>();
  for (const row of rows) {
    const messages = row.messages.map(toMessage).sort((a, b) => a.seq - b.seq);
    pages.set(row.conversationId, {
      items: messages.slice(0, page.first).map((node) => ({
        node,
        cursor: encodeCursor(
          { value: String(node.seq), id: node.id },
          conversationMessages(row.conversationId),
        ),
      })),
      hasNextPage: messages.length > page.first,
    });
  }
  return pages;
}

/**
 * The tenant's broadcasts since `agent` was created, as a subquery branch that binds `v`: in
 * the order of an index (migration 30; for one kind, `$kind`, migration 31's, so that a page of
 * chat does not read every report broadcast), and with `dir` only the first `$limit` in that
 * order (the planner keeps the index's order only when ORDER BY names its leading keys).
 */
function broadcastsSince(
  v: string,
  agent: string,
  o: { kind: boolean; dir: 'ASC' | 'DESC' | null; tieBreak: string[]; where?: string },
): string {
  const keys = ['tenantId', 'broadcast', ...(o.kind ? ['kind'] : []), 'createdAt'];
  const order = [...keys, ...o.tieBreak].map((key) => `${v}.${key} ${o.dir}`).join(', ');
  return `MATCH (${v}:Message {tenantId: $tenantId, broadcast: true${o.kind ? ', kind: $kind' : ''}})
          USING INDEX SEEK ${v}:Message(${keys.join(', ')})
          WHERE ${v}.createdAt >= ${agent}.createdAt${o.where ? ` AND ${o.where}` : ''}
          ${o.dir ? `WITH ${v} ORDER BY ${order} LIMIT $limit` : ''}
          RETURN ${v}`;
}

/**
 * An agent's messages (page-direct.ts: Linked): those it sent or received, and the broadcasts
 * since it was created (broadcastsSince), only as many as the page shows. Messages are listed
 * by creation time only.
 */
function agentMessages(kind: MessageKind | null | undefined): Linked {
  return {
    from: { label: 'Agent', id: 'agentId' },
    edges: ['-[:SENT]->', '<-[:TO]-'],
    test: `(EXISTS { (a)-[:SENT]->(n) WHERE a.id = $agentId }
      OR EXISTS { (n)-[:TO]->(a) WHERE a.id = $agentId }
      OR (n.broadcast AND EXISTS {
        MATCH (a:Agent {tenantId: $tenantId, id: $agentId})
        USING INDEX SEEK a:Agent(id) WHERE a.createdAt <= n.createdAt
      }))`,
    more: ({ where, dir }) =>
      broadcastsSince('n', 'from', { kind: Boolean(kind), dir, tieBreak: ['id'], where }),
  };
}

export function listMessages(
  tx: Tx,
  tenantId: string,
  filter: MessageFilter,
  sort: Sort,
  page: PageRequest,
): Promise<Page<Message>> {
  const conditions = ['n.tenantId = $tenantId'];
  const params: Record<string, unknown> & { tenantId: string } = { tenantId };
  const search = filter.text ? allWords(filter.text) : null;
  // Text with no words to look for finds nothing (rather than everything).
  if (filter.text && !search)
    return Promise.resolve({ items: [], hasNextPage: false, totalCount: 0 });
  if (filter.kind) {
    conditions.push('n.kind = $kind');
    params.kind = filter.kind;
    params.kinds = [filter.kind];
  }
  if (filter.conversationId) {
    conditions.push('n.conversationId = $conversationId');
    params.conversationId = filter.conversationId;
  }
  if (filter.agentId) params.agentId = filter.agentId;
  if (filter.aboutTaskId) {
    // Without a search, the list walks from the task (below).
    if (search) {
      conditions.push('EXISTS { (n)-[:ABOUT]->(t) WHERE t.id = $aboutTaskId }');
    }
    params.aboutTaskId = filter.aboutTaskId;
  }
  if (search) params.search = tenantLuceneQuery('message_text', tenantId, search);
  return readPage(
    tx,
    {
      label: 'Message',
      match: search
        ? `${fulltextNodes("'message_text'", '$search')} YIELD node AS n`
        : filter.aboutTaskId
          ? walkFrom({ label: 'Task', id: 'aboutTaskId' }, '<-[:ABOUT]-', 'Message')
          : filter.conversationId
            ? walkFrom({ label: 'Conversation', id: 'conversationId' }, '<-[:IN]-', 'Message')
            : undefined,
      linked: filter.agentId ? [agentMessages(filter.kind)] : undefined,
      // One kind's messages from its (tenantId, kind) index when they are few (page-direct.ts).
      oneOf: filter.kind ? { property: 'kind', param: 'kinds' } : undefined,
      conditions,
      params,
      sort,
      page,
    },
    toMessage,
  );
}

export function listConversations(
  tx: Tx,
  tenantId: string,
  sort: Sort,
  page: PageRequest,
): Promise<Page<Conversation>> {
  return readPage(
    tx,
    {
      label: 'Conversation',
      conditions: [],
      params: { tenantId },
      sort,
      page,
    },
    toConversation,
  );
}

/** Every word must occur: AND of the words, each escaped by the shared luceneQuery. */
function allWords(text: string): string | null {
  const words = text
    .split(/\s+/)
    .map(luceneQuery)
    .filter((w) => w.length > 0);
  return words.length ? words.join(' AND ') : null;
}
