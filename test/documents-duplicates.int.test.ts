import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/auth/keys.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';

// Uploading the same file twice made a second Document with a second set of chunk episodes:
// memory ingested (and paid for) the same text twice. The same text of a tenant, by
// POST /documents or ingestDocument alike, now returns the document it already made.

const INGEST = `mutation($title: String!, $text: String!) {
  ingestDocument(title: $title, text: $text) { id title chunks uploads }
}`;

interface Doc {
  id: string;
  title: string;
  chunks: number;
  uploads: number;
}

const paragraphs = (tag: string) =>
  Array.from({ length: 6 }, (_, i) => `${tag} ${i}: Acme Corp sold ${i} trams.`).join('\n\n');

describe('the same document uploaded again', () => {
  let server: TestServer;
  const otherTenant = `test-${randomUUID()}`;
  const otherKey = generateApiKey();

  beforeAll(async () => {
    server = await startTestServer(undefined, {}, undefined, { chunkChars: 120 });
    await server.services.auth.ensureAdminKey(otherTenant, otherKey, 'other admin');
  });
  afterAll(async () => {
    await deleteTenant(server.graph, otherTenant);
    await server.graph.write((tx) =>
      tx.run({ cypher: 'MATCH (t:Tenant {id: $id}) DELETE t', params: { id: otherTenant } }),
    );
    await server.stop();
  });

  const upload = async (text: string, name: string, key = server.adminKey) => {
    const form = new FormData();
    form.append('file', new Blob([text], { type: 'text/plain' }), name);
    const res = await fetch(new URL('/documents', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    const body = (await res.json()) as { document: Doc; created: boolean };
    return { status: res.status, ...body };
  };
  const ingest = async (title: string, text: string, key = server.adminKey) => {
    const res = await server.gql<{ ingestDocument: Doc }, never>(INGEST, { title, text } as never, {
      authorization: `Bearer ${key}`,
    });
    expect(res.errors).toBeUndefined();
    return res.data!.ingestDocument;
  };
  /** The documents and chunk episodes of a tenant whose title starts with `tag`. */
  const stored = async (tag: string, tenantId = server.tenantId) => {
    const [row] = await server.graph.read((tx) =>
      tx.run<{ documents: number; episodes: number }>({
        cypher: `
          MATCH (d:Document {tenantId: $tenantId}) WHERE d.title STARTS WITH $tag
          RETURN count(d) AS documents,
            sum(COUNT { (:Episode)-[:FROM_DOCUMENT]->(d) }) AS episodes`,
        params: { tenantId, tag },
      }),
    );
    return row!;
  };

  it('returns the document of the same text, by POST /documents or ingestDocument', async () => {
    const text = paragraphs('Twice');
    const first = await upload(text, 'Twice.txt');
    expect(first.status).toBe(201);
    expect(first.created).toBe(true);
    expect(first.document).toMatchObject({ title: 'Twice.txt', uploads: 1 });
    expect(first.document.chunks).toBeGreaterThan(1);

    // The same text with other line endings and trailing spaces: the same chunks.
    const again = await upload(`${text.replace(/\n/g, ' \r\n')}\r\n`, 'Twice again.txt');
    expect(again.status).toBe(200);
    expect(again.created).toBe(false);
    expect(again.document).toMatchObject({ id: first.document.id, title: 'Twice.txt', uploads: 2 });

    const mutation = await ingest('Twice by GraphQL', text);
    expect(mutation).toMatchObject({ id: first.document.id, title: 'Twice.txt', uploads: 3 });
    expect(await stored('Twice')).toEqual({ documents: 1, episodes: first.document.chunks });

    // Other text is another document.
    const other = await ingest('Twice other', `${text}\n\nOne more line.`);
    expect(other.id).not.toBe(first.document.id);
    expect(other.uploads).toBe(1);
  });

  it("keeps another tenant's copy of the same text its own", async () => {
    const text = paragraphs('Shared');
    const ours = await upload(text, 'Shared ours.txt');
    const theirs = await upload(text, 'Shared theirs.txt', otherKey);
    expect([ours.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.document.id).not.toBe(ours.document.id);
    expect(await stored('Shared', otherTenant)).toEqual({
      documents: 1,
      episodes: theirs.document.chunks,
    });
  });

  // The console says "upload it again" of a document whose ingestion failed: with one document
  // per text, that returned the FAILED document and queued nothing (review of 2026-12-07).
  it('takes the failed chunks of a FAILED document back when its text is uploaded again', async () => {
    const text = paragraphs('Failed');
    const first = await ingest('Failed once', text);
    // As an outage of the embeddings endpoint leaves it: every chunk FAILED, the document too.
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (d:Document {tenantId: $tenantId, id: $id})<-[:FROM_DOCUMENT]-(e:Episode)
          SET d.status = 'FAILED', e.status = 'FAILED', e.attempts = 3, e.error = 'endpoint down'`,
        params: { tenantId: server.tenantId, id: first.id },
      }),
    );
    const again = await upload(text, 'Failed again.txt');
    expect(again).toMatchObject({ status: 200, created: false });
    expect(again.document).toMatchObject({ id: first.id, uploads: 2 });
    const [row] = await server.graph.read((tx) =>
      tx.run<{ status: string; failed: number; attempts: number }>({
        cypher: `
          MATCH (d:Document {tenantId: $tenantId, id: $id})<-[:FROM_DOCUMENT]-(e:Episode)
          RETURN d.status AS status, count(CASE WHEN e.status = 'FAILED' THEN 1 END) AS failed,
                 max(e.attempts) AS attempts`,
        params: { tenantId: server.tenantId, id: first.id },
      }),
    );
    expect(row).toMatchObject({ failed: 0 });
    expect(row!.status).not.toBe('FAILED');
    expect((await stored('Failed')).episodes).toBe(first.chunks);
  });

  it('makes one document of the same text uploaded several times at once', async () => {
    const text = paragraphs('Racing');
    const answers = await Promise.all([
      upload(text, 'Racing 1.txt'),
      upload(text, 'Racing 2.txt'),
      ingest('Racing 3', text),
      ingest('Racing 4', text),
    ]);
    const docs = answers.map((a) => ('document' in a ? a.document : a));
    expect(new Set(docs.map((d) => d.id)).size).toBe(1);
    expect(docs.map((d) => d.uploads).sort()).toEqual([1, 2, 3, 4]);
    for (const posted of answers.slice(0, 2) as Awaited<ReturnType<typeof upload>>[]) {
      const made = posted.document.uploads === 1;
      expect(posted).toMatchObject({ status: made ? 201 : 200, created: made });
    }
    expect(await stored('Racing')).toEqual({ documents: 1, episodes: docs[0]!.chunks });
  });
});

describe('the same document uploaded again at the backlog cap', () => {
  it('returns the existing document, where a new one is refused', async () => {
    const server = await startTestServer(
      undefined,
      {},
      undefined,
      {},
      {
        backlog: { maxPendingEpisodes: 1 },
      },
    );
    try {
      const ingest = (text: string) =>
        server.gql<{ ingestDocument: Doc }, never>(INGEST, { title: 'Full', text } as never);
      const first = await ingest('Acme is a company.');
      expect(first.errors).toBeUndefined();
      const refused = await ingest('Kite is a farm.');
      expect(refused.errors?.[0]?.extensions?.code).toBe('LIMIT_EXCEEDED');
      const again = await ingest('Acme is a company.');
      expect(again.errors).toBeUndefined();
      expect(again.data!.ingestDocument).toMatchObject({
        id: first.data!.ingestDocument.id,
        uploads: 2,
      });
    } finally {
      await server.stop();
    }
  });
});
