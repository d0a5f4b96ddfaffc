import neo4j from 'neo4j-driver';
import type { Tx } from './cypher.js';

/**
 * A chat's reads and writes of its own: the window of a conversation a chat turn puts in its
 * prompt, and the running summary of what came before it (src/agents/chat.ts).
 */

/** A message of a chat as the prompt shows it: its place, text and who sent it. */
export interface ChatLine {
  seq: number;
  content: string;
  fromAgentId: string | null;
  sender: string;
}

/** What one chat turn reads: the running summary and only the messages it still needs. */
export interface ChatContext {
  summary: string;
  /** The last seq the summary covers (0: none). */
  summaryUpTo: number;
  /** In seq order: the first `catchUp` messages after the summary, then the last `window`. */
  lines: ChatLine[];
}

/**
 * The chat's bounded read (issue 10: every turn loaded the whole conversation): at most
 * `window + catchUp` messages, namely those after `summaryUpTo` still to be summarised (the
 * oldest `catchUp`) and the last `window`, each range an index seek (migration 11), so the work
 * does not grow with the conversation. Null for a conversation of another tenant or none.
 */
export async function chatContext(
  tx: Tx,
  tenantId: string,
  conversationId: string,
  bounds: { window: number; catchUp: number },
): Promise<ChatContext | null> {
  const [row] = await tx.run<{ summary: string | null; upTo: number; lines: ChatLine[] }>({
    cypher: `
      MATCH (c:Conversation {tenantId: $tenantId, id: $id}) USING INDEX SEEK c:Conversation(id)
      WITH c, coalesce(c.summaryUpTo, 0) AS upTo
      CALL (c, upTo) {
        // Two seeks of the (tenantId, conversationId, seq) index: reads stay bounded.
        CALL (c, upTo) {
          MATCH (m:Message {tenantId: $tenantId, conversationId: c.id})
          USING INDEX SEEK m:Message(tenantId, conversationId, seq)
          WHERE m.seq > upTo AND m.seq <= upTo + $catchUp
          RETURN m
          UNION
          MATCH (m:Message {tenantId: $tenantId, conversationId: c.id})
          USING INDEX SEEK m:Message(tenantId, conversationId, seq)
          WHERE m.seq > c.messageCount - $window
          RETURN m
        }
        OPTIONAL MATCH (a:Agent)-[:SENT]->(m)
        WITH m, a ORDER BY m.seq
        RETURN collect({seq: m.seq, content: m.content, fromAgentId: a.id,
                        sender: coalesce(a.name, m.senderUser, 'someone')}) AS lines
      }
      RETURN c.summary AS summary, upTo, lines`,
    params: {
      tenantId,
      id: conversationId,
      window: neo4j.int(bounds.window),
      catchUp: neo4j.int(bounds.catchUp),
    },
  });
  return row ? { summary: row.summary ?? '', summaryUpTo: row.upTo, lines: row.lines } : null;
}

/**
 * Keeps a newer running summary: a turn that summarised less (a slower concurrent turn)
 * never overwrites one that covers more. Compared under the conversation's lock (the label SET
 * takes it), so a turn that saved meanwhile is seen.
 */
export async function saveChatSummary(
  tx: Tx,
  tenantId: string,
  conversationId: string,
  summary: { text: string; upTo: number },
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (c:Conversation {tenantId: $tenantId, id: $id}) USING INDEX SEEK c:Conversation(id)
      SET c:Conversation
      WITH c WHERE coalesce(c.summaryUpTo, 0) < $upTo
      SET c.summary = $text, c.summaryUpTo = $upTo`,
    params: { tenantId, id: conversationId, text: summary.text, upTo: neo4j.int(summary.upTo) },
  });
}
