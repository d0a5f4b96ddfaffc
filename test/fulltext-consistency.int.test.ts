import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULLTEXT_INDEXES } from '../graph/fulltext.js';
import { KnowledgeKind } from '../src/domain/knowledge.js';
import { MemoryScope } from '../src/domain/memory.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Rounds of writing a new word and searching for it at once. */
const ROUNDS = 15;

/**
 * The full-text indexes are eventually consistent (migration 37): a commit leaves their
 * Lucene updates to a background thread, so a step's end no longer pays for them (2.5–3.3 ms of
 * its commit for the task's result and again for its memory episode, bench:orchestration).
 * Every full-text query waits for the updates of the commits before it (graph/fulltext.ts:
 * fulltextNodes), so a search still sees all that was committed before it. Without that wait,
 * a search right after the write missed the new word about nine times in ten.
 */
describe('full-text search after a write', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('every full-text index is eventually consistent', async () => {
    const rows = await server.graph.read((tx) =>
      tx.run<{ name: string; consistent: boolean }>({
        cypher: `
          SHOW FULLTEXT INDEXES YIELD name, options
          RETURN name, options.indexConfig.\`fulltext.eventually_consistent\` AS consistent`,
      }),
    );
    const byName = Object.fromEntries(rows.map((r) => [r.name, r.consistent]));
    expect(byName).toEqual(Object.fromEntries(FULLTEXT_INDEXES.map((name) => [name, true])));
  });

  it('finds a task, a message, a knowledge item and an episode committed just before', async () => {
    const { tasks, messages, knowledge, search, memorySearch } = server.services;
    const t = server.tenantId;
    const view = { scopes: [MemoryScope.TENANT], agentId: null, taskIds: null };
    const missed: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const word = `zircon${randomUUID().slice(0, 8)}`;
      // Each write's commit has returned; the searches start at once, in the same process.
      const [[task], [message], [item]] = await Promise.all([
        tasks.createMany(t, 'test', [{ title: `Polish the ${word}` }]),
        messages.sendMany(t, 'test', [{ content: `The ${word} is polished`, broadcast: true }]),
        knowledge.record(t, [{ content: `A ${word} shines`, kind: KnowledgeKind.FACT }]),
      ]);
      const [hits, listed, memories] = await Promise.all([
        search.search(t, word, 10),
        messages.list(t, { text: word }, { property: 'createdAt', descending: false }, {}),
        memorySearch.search(t, { query: word, view, first: 10 }),
      ]);
      const found = new Set(hits.map((h) => h.node.id));
      for (const [kind, id] of Object.entries({ task, message, item }))
        if (!found.has(id!.id)) missed.push(`round ${round}: search missed the ${kind}`);
      if (!listed.items.some((e) => e.node.id === message!.id))
        missed.push(`round ${round}: messages(filter: {text}) missed the message`);
      if (!memories.some((h) => h.kind === 'EPISODE' && h.parts.bm25Rank !== null))
        missed.push(`round ${round}: searchMemory's BM25 missed the message's episode`);
    }
    expect(missed).toEqual([]);
  });
});
