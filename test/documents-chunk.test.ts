import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { chunkText, normalisedText } from '../src/memory/documents/chunk.js';
import { contentHash } from '../src/memory/documents/document.service.js';
import { documentText, documentType } from '../src/memory/documents/parse.js';
import { tinyPdf } from './utils/pdf.js';

const words = (n: number, prefix = 'w') =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(' ');

describe('chunkText', () => {
  it('keeps a short text whole and gives nothing for blank text', () => {
    expect(chunkText('One paragraph.\n\nAnother.', { size: 100 })).toEqual([
      'One paragraph.\n\nAnother.',
    ]);
    expect(chunkText(' \n\n \t\n', { size: 100 })).toEqual([]);
  });

  it('never makes a chunk longer than the size and never cuts a word', () => {
    const text = [words(300, 'alpha'), words(50, 'beta'), words(400, 'gamma')].join('\n\n');
    const chunks = chunkText(text, { size: 500, overlap: 50 });
    expect(chunks.length).toBeGreaterThan(5);
    const vocabulary = new Set(text.split(/\s+/));
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(500);
      for (const word of chunk.split(/\s+/)) expect(vocabulary.has(word)).toBe(true);
    }
  });

  it('loses no word: every word of the text is in some chunk, in order', () => {
    const text = [words(200, 'a'), words(10, 'b'), words(333, 'c')].join('\n\n');
    const chunks = chunkText(text, { size: 400, overlap: 40 });
    const seen = chunks.join(' ').split(/\s+/);
    let at = 0;
    for (const word of text.split(/\s+/)) {
      const found = seen.indexOf(word, at);
      expect(found).toBeGreaterThanOrEqual(at);
      at = found;
    }
  });

  it('repeats the end of one chunk at the start of the next (overlap)', () => {
    const chunks = chunkText(words(400), { size: 300, overlap: 60 });
    for (let i = 1; i < chunks.length; i++) {
      const head = chunks[i]!.split(/\s+/).slice(0, 3).join(' ');
      expect(chunks[i - 1]!.endsWith(head) || chunks[i - 1]!.includes(head)).toBe(true);
    }
  });

  it('keeps paragraphs whole when they fit, and starts a section at a heading', () => {
    const para = (n: number) => `Paragraph ${n}. ${words(20, `p${n}x`)}`;
    const text = `# One\n\n${para(1)}\n\n${para(2)}\n\n## Two\n\n${para(3)}`;
    const size = para(1).length * 2;
    const chunks = chunkText(text, { size });
    expect(chunks[0]).toBe(`# One\n\n${para(1)}`);
    expect(chunks.some((c) => c.startsWith('## Two'))).toBe(true);
    for (const n of [1, 2, 3]) expect(chunks.some((c) => c.includes(para(n)))).toBe(true);
  });

  it('cuts only a single "word" longer than a whole chunk', () => {
    const long = 'x'.repeat(250);
    const chunks = chunkText(`short words ${long} more`, { size: 100, overlap: 0 });
    expect(chunks.every((c) => c.length <= 100)).toBe(true);
    expect(chunks.join('')).toContain('short words');
    expect(chunks.join('').replace(/[^x]/g, '')).toHaveLength(250);
  });

  it('is deterministic and reads \\r\\n like \\n', () => {
    const text = `${words(500)}\r\n\r\n# H\r\n${words(100, 'z')}`;
    const a = chunkText(text, { size: 700 });
    expect(chunkText(text, { size: 700 })).toEqual(a);
    expect(chunkText(text.replace(/\r\n/g, '\n'), { size: 700 })).toEqual(a);
  });
});

describe('document types and text', () => {
  it('reads the type from the declared type, or from the extension of a generic one', () => {
    expect(documentType('text/plain; charset=utf-8')).toBe('text/plain');
    expect(documentType('application/octet-stream', 'notes.MD')).toBe('text/markdown');
    expect(documentType(undefined, 'a.pdf')).toBe('application/pdf');
    expect(() => documentType('image/png', 'a.png')).toThrow(
      /text\/plain, text\/markdown, application\/pdf.*"image\/png"/,
    );
  });

  it('extracts the text of a real PDF and refuses a corrupt one', async () => {
    const text = await documentText(tinyPdf(['Acme Corp revenue is 12M.']), 'application/pdf');
    expect(text).toContain('Acme Corp revenue is 12M.');
    await expect(
      documentText(Buffer.from('%PDF-1.4\nnot really'), 'application/pdf'),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: /PDF cannot be read/ });
    await expect(documentText(Buffer.from('hello'), 'application/pdf')).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: /not a PDF/,
    });
  });

  it('refuses empty, whitespace-only and non-UTF-8 text', async () => {
    await expect(documentText(Buffer.alloc(0), 'text/plain')).rejects.toThrow(/empty/);
    await expect(documentText(Buffer.from('  \n'), 'text/plain')).rejects.toThrow(/whitespace/);
    await expect(documentText(Buffer.from([0xff, 0xfe, 0x41]), 'text/plain')).rejects.toThrow(
      /not UTF-8/,
    );
  });
});

describe('document limits from the environment', () => {
  it('defaults to 10 MB, 1000 chunks of 1500 characters, and names a bad variable', () => {
    expect(loadConfig({}).documents).toEqual({
      maxBytes: 10_000_000,
      maxChunks: 1000,
      chunkChars: 1500,
    });
    expect(loadConfig({ DOCUMENT_MAX_BYTES: '2048' }).documents.maxBytes).toBe(2048);
    expect(() => loadConfig({ DOCUMENT_MAX_BYTES: 'ten' })).toThrow(ConfigError);
    expect(() => loadConfig({ DOCUMENT_CHUNK_CHARS: '50' })).toThrow(
      /^Invalid environment: DOCUMENT_CHUNK_CHARS must be a whole number of at least 200, but got "50"$/,
    );
  });
});

describe('a document text’s identity', () => {
  it('is the same for texts that chunk the same, at any chunk size, and differs otherwise', () => {
    const text = `# Acme\n\n${words(120, 'a')}\n\n${words(80, 'b')}`;
    const messy = `${text.replace(/\n/g, '  \r\n').replace('\r\n\r\n', '\r\n\r\n\r\n')}\n\n`;
    expect(normalisedText(messy)).toBe(normalisedText(text));
    expect(contentHash(messy)).toBe(contentHash(text));
    for (const size of [200, 700]) {
      expect(chunkText(messy, { size })).toEqual(chunkText(text, { size }));
    }
    expect(contentHash(`${text}.`)).not.toBe(contentHash(text));
    expect(contentHash(text)).toMatch(/^[0-9a-f]{64}$/);
  });
});
