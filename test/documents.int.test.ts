import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/auth/keys.js';
import { Role } from '../src/domain/auth.js';
import { TOPICS } from '../subscriptions/topics.js';
import { graphql } from './generated/index.js';
import { tinyPdf } from './utils/pdf.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

const LIMITS = { maxBytes: 20_000, maxChunks: 12, chunkChars: 300 };

const IngestDocument = graphql(`
  mutation DocIngest($title: String!, $text: String!, $mime: String) {
    ingestDocument(title: $title, text: $text, mime: $mime) {
      id
      title
      mime
      bytes
      chunks
      status
    }
  }
`);

const DocumentById = graphql(`
  query DocById($id: ID!) {
    document(id: $id) {
      id
      title
      chunks
      status
      progress {
        documentId
        chunks
        ingested
        failed
      }
    }
  }
`);

const Progress = graphql(`
  subscription DocProgress($id: ID!) {
    documentProgress(id: $id) {
      documentId
      chunks
      ingested
      failed
      status
    }
  }
`);

interface Answer {
  status: number;
  body: {
    document?: {
      id: string;
      title: string;
      mime: string;
      bytes: number;
      chunks: number;
      status: string;
    };
    errors?: { message: string; extensions: { code: string } }[];
  };
}

const paragraphs = (n: number, tag: string) =>
  Array.from(
    { length: n },
    (_, i) => `${tag} paragraph ${i}: Acme Corp reported revenue of ${i}M in quarter ${i}.`,
  ).join('\n\n');

describe('documents', () => {
  let server: TestServer;
  const otherTenant = `test-${randomUUID()}`;
  const otherKey = generateApiKey();
  const url = () => `http://127.0.0.1:${server.port}/documents`;

  beforeAll(async () => {
    server = await startTestServer(undefined, { bodyTimeoutMs: 1_500 }, undefined, LIMITS);
    await server.services.auth.ensureAdminKey(otherTenant, otherKey, 'other admin');
  });
  afterAll(async () => {
    await deleteTenant(server.graph, otherTenant);
    await server.graph.write((tx) =>
      tx.run({ cypher: 'MATCH (t:Tenant {id: $id}) DELETE t', params: { id: otherTenant } }),
    );
    await server.stop();
  });

  const upload = async (
    file: { data: Uint8Array | string; type: string; name: string } | null,
    opts: { title?: string; key?: string | null } = {},
  ): Promise<Answer> => {
    const form = new FormData();
    if (file) form.append('file', new Blob([file.data], { type: file.type }), file.name);
    if (opts.title) form.append('title', opts.title);
    const key = opts.key === undefined ? server.adminKey : opts.key;
    const res = await fetch(url(), {
      method: 'POST',
      headers: key ? { authorization: `Bearer ${key}` } : {},
      body: form,
    });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  };

  /** The tenant's nodes other than audit events (a refusal is audited, and that is all). */
  const nodeCount = async () => {
    const [row] = await server.graph.read((tx) =>
      tx.run<{ n: number }>({
        cypher: 'MATCH (n {tenantId: $tenantId}) WHERE NOT n:AuditEvent RETURN count(n) AS n',
        params: { tenantId: server.tenantId },
      }),
    );
    return row!.n;
  };

  const episodesOf = (documentId: string) =>
    server.graph.read((tx) =>
      tx.run<{ kind: string; content: string; sourceKey: string }>({
        cypher: `
          MATCH (e:Episode {tenantId: $tenantId})-[:FROM_DOCUMENT]->(:Document {tenantId: $tenantId, id: $documentId})
          RETURN e.kind AS kind, e.content AS content, e.sourceKey AS sourceKey
          ORDER BY e.sourceKey`,
        params: { tenantId: server.tenantId, documentId },
      }),
    );

  it('turns an uploaded text file into a document with one DOCUMENT_CHUNK episode per chunk', async () => {
    const text = paragraphs(8, 'Plain');
    const { status, body } = await upload(
      { data: text, type: 'text/plain', name: 'notes.txt' },
      { title: 'Q3 notes' },
    );
    expect(status).toBe(201);
    expect(body.document).toMatchObject({
      title: 'Q3 notes',
      mime: 'text/plain',
      bytes: Buffer.byteLength(text),
      status: 'INGESTING',
    });
    expect(body.document!.chunks).toBeGreaterThan(1);
    const episodes = await episodesOf(body.document!.id);
    expect(episodes).toHaveLength(body.document!.chunks);
    expect(episodes.every((e) => e.kind === 'DOCUMENT_CHUNK')).toBe(true);
    const all = episodes.map((e) => e.content).join('\n');
    for (let i = 0; i < 8; i++) expect(all).toContain(`Plain paragraph ${i}:`);
    // Audited like a mutation, in the same transaction as the document.
    const audits = await server.graph.read((tx) =>
      tx.run<{ outcome: string }>({
        cypher: `MATCH (a:AuditEvent {tenantId: $tenantId, operation: 'uploadDocument'})
                 WHERE $id IN a.targetIds RETURN a.outcome AS outcome`,
        params: { tenantId: server.tenantId, id: body.document!.id },
      }),
    );
    expect(audits).toEqual([{ outcome: 'SUCCESS' }]);
  });

  it('reads a .md file sent as application/octet-stream as Markdown, headings kept', async () => {
    const text = `# Acme\n\n${paragraphs(2, 'Markdown')}`;
    const { status, body } = await upload({
      data: text,
      type: 'application/octet-stream',
      name: 'acme.md',
    });
    expect(status).toBe(201);
    expect(body.document).toMatchObject({ title: 'acme.md', mime: 'text/markdown' });
    const [first] = await episodesOf(body.document!.id);
    expect(first!.content.startsWith('# Acme')).toBe(true);
  });

  it('titles a document sent with no title by its file name, as sent in UTF-8', async () => {
    const name = 'Übersicht 报告 \u{1F4C8}.md';
    const { status, body } = await upload({ data: `About ${name}`, type: 'text/markdown', name });
    expect(status).toBe(201);
    expect(body.document!.title).toBe(name);
  });

  it('cuts a long file name at 300 characters for the title, never inside one', async () => {
    const name = `${'n'.repeat(299)}\u{1F4C8}${'x'.repeat(100)}.md`;
    const { status, body } = await upload({ data: `About ${name}`, type: 'text/markdown', name });
    expect(status).toBe(201);
    // The emoji would straddle the limit: it goes whole.
    expect(body.document!.title).toBe('n'.repeat(299));
  });

  // A title nobody typed: a file name with a text-direction mark was refused as a bad "title".
  it('cleans a file name used as the title of control and text-direction characters', async () => {
    const sent = async (name: string) =>
      (await upload({ data: `About ${name}`, type: 'text/plain', name })).body.document?.title;
    expect(await sent('invoice\u202Etxt.exe.txt')).toBe('invoice txt.exe.txt');
    expect(await sent('tab\there.txt')).toBe('tab here.txt');
    expect(await sent('   ')).toBe('document');
  });

  it('extracts the text of an uploaded PDF into episodes', async () => {
    const pdf = tinyPdf(['Globex Inc hired 40 engineers in 2026.', 'Its CEO is Hank Scorpio.']);
    const { status, body } = await upload({
      data: pdf,
      type: 'application/pdf',
      name: 'globex.pdf',
    });
    expect(status).toBe(201);
    expect(body.document).toMatchObject({ mime: 'application/pdf', bytes: pdf.length, chunks: 1 });
    const [episode] = await episodesOf(body.document!.id);
    expect(episode!.content).toContain('Globex Inc hired 40 engineers in 2026.');
    expect(episode!.content).toContain('Hank Scorpio');
  });

  it('refuses bad uploads with the right status and code, and writes nothing', async () => {
    const viewer = await server.keyFor(Role.VIEWER);
    const before = await nodeCount();
    const text = { data: 'Some text.', type: 'text/plain', name: 'a.txt' };
    const cases: [Promise<Answer>, number, string][] = [
      [upload({ data: 'GIF89a', type: 'image/gif', name: 'a.gif' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [
        upload({ data: 'x '.repeat(15_000), type: 'text/plain', name: 'big.txt' }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        upload({ data: paragraphs(60, 'Many'), type: 'text/plain', name: 'many.txt' }),
        413,
        'LIMIT_EXCEEDED',
      ],
      [
        upload({ data: '%PDF-1.4\n1 0 obj broken', type: 'application/pdf', name: 'bad.pdf' }),
        400,
        'BAD_USER_INPUT',
      ],
      [upload({ data: '', type: 'text/plain', name: 'empty.txt' }), 400, 'BAD_USER_INPUT'],
      [upload(null, { title: 'no file' }), 400, 'BAD_USER_INPUT'],
      [upload(text, { key: null }), 401, 'UNAUTHENTICATED'],
      [upload(text, { key: generateApiKey() }), 401, 'UNAUTHENTICATED'],
      [upload(text, { key: viewer }), 403, 'FORBIDDEN'],
    ];
    for (const [answer, status, code] of cases) {
      const { status: got, body } = await answer;
      expect({ got, code: body.errors?.[0]?.extensions.code }).toEqual({ got: status, code });
      expect(body.errors![0]!.message.length).toBeGreaterThan(10);
    }
    expect(await nodeCount()).toBe(before);
  });

  // "at most 20000 bytes, but got 100191" named the whole form's length as the file's.
  it('refuses a request longer than the limit by its Content-Length, naming it as such', async () => {
    const { status, body } = await upload({
      data: 'x'.repeat(100_000),
      type: 'text/plain',
      name: 'long.txt',
    });
    expect(status).toBe(413);
    expect(body.errors![0]!.message).toMatch(
      /^A document may have at most 20000 bytes \(DOCUMENT_MAX_BYTES\), but this request's body has 100\d{3} bytes$/,
    );
  });

  it('refuses a streamed upload over the limit while it arrives (no Content-Length)', async () => {
    const before = await nodeCount();
    const boundary = 'xyzBOUNDARY';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n`;
    let sent = 0;
    const total = 200_000; // ten times the limit
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode(head));
        if (sent >= total) {
          controller.enqueue(new TextEncoder().encode(`\r\n--${boundary}--\r\n`));
          controller.close();
          return;
        }
        sent += 10_000;
        controller.enqueue(new TextEncoder().encode('word '.repeat(2_000)));
      },
    });
    const res = await fetch(url(), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.adminKey}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as Answer['body']).errors![0]!.extensions.code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    expect(await nodeCount()).toBe(before);
  });

  it('answers 408 to an upload that trickles in, and writes nothing', async () => {
    const before = await nodeCount();
    const boundary = 'slowBOUNDARY';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.txt"\r\nContent-Type: text/plain\r\n\r\n${'slow '.repeat(100)}\r\n--${boundary}--\r\n`;
    const head =
      `POST /documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.adminKey}\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { response, sent } = await new Promise<{ response: string; sent: number }>((resolve) => {
      const socket = connect(server.port, '127.0.0.1');
      let response = '';
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      socket.on('connect', () => {
        socket.write(head);
        timer = setInterval(() => {
          if (sent < body.length && socket.writable) socket.write(body[sent++]!);
        }, 100);
      });
      socket.on('data', (chunk) => (response += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ response, sent });
      });
    });
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(response).toContain('"code":"BODY_TIMEOUT"');
    expect(sent).toBeLessThan(body.length);
    expect(await nodeCount()).toBe(before);
  }, 120_000);

  it('ingests text through the ingestDocument mutation, with the same limits', async () => {
    const text = paragraphs(5, 'Mutation');
    const res = await server.gql(IngestDocument, { title: 'Via GraphQL', text, mime: null });
    expect(res.errors).toBeUndefined();
    const doc = res.data!.ingestDocument;
    expect(doc).toMatchObject({ title: 'Via GraphQL', mime: 'text/markdown', status: 'INGESTING' });
    expect(await episodesOf(doc.id)).toHaveLength(doc.chunks);

    const read = await server.gql(DocumentById, { id: doc.id });
    expect(read.data!.document).toMatchObject({
      id: doc.id,
      chunks: doc.chunks,
      progress: { documentId: doc.id, chunks: doc.chunks, failed: 0 },
    });

    const before = await nodeCount();
    const big = await server.gql(IngestDocument, {
      title: 'big',
      text: 'y'.repeat(25_000),
      mime: 'text/plain',
    });
    expect(big.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    const pdf = await server.gql(IngestDocument, {
      title: 'pdf',
      text: 'x',
      mime: 'application/pdf',
    });
    expect(pdf.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const blank = await server.gql(IngestDocument, { title: 'blank', text: '   ', mime: null });
    expect(blank.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const viewer = await server.keyFor(Role.VIEWER);
    const counted = await nodeCount();
    const refused = await server.gql(
      IngestDocument,
      { title: 't', text: 'some text', mime: null },
      {
        authorization: `Bearer ${viewer}`,
      },
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await nodeCount()).toBe(counted);
    expect(counted).toBe(before + 1); // the viewer's key
  });

  it('keeps a document from another tenant: no read, no progress events', async () => {
    const { body } = await upload({
      data: paragraphs(2, 'Secret'),
      type: 'text/plain',
      name: 's.txt',
    });
    const id = body.document!.id;
    const foreign = await server.gql(DocumentById, { id }, { authorization: `Bearer ${otherKey}` });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(JSON.stringify(foreign)).not.toContain('Secret');

    const own = await subscribe(server, Progress, { id });
    // Another tenant's subscription on it is refused as for an unknown id, before any event.
    const other = await subscribe(server, Progress, { id }, otherKey);
    try {
      const refused = await other.waitForNext(10_000);
      expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(refused.errors?.[0]?.message).toBe(`Document "${id}" does not exist`);
      const event = {
        documentId: id,
        chunks: 1,
        ingested: 1,
        failed: 0,
        status: 'INGESTED' as const,
      };
      server.pubsub.publish(TOPICS.documentProgress, { tenantId: server.tenantId, ...event });
      expect((await own.waitForNext(10_000)).data!.documentProgress).toEqual(event);
    } finally {
      await own.close();
      await other.close();
    }
  });
});
