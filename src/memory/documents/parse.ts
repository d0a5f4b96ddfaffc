import { BadInputError } from '../../domain/errors.js';
import { DEFAULT_DOCUMENT_LIMITS } from './config.js';
import { UnsupportedTypeError } from './errors.js';
import { readPdfText } from './pdf-text.js';

/** The types a document may have. */
export const DOCUMENT_TYPES = ['text/plain', 'text/markdown', 'application/pdf'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

const BY_EXTENSION: Record<string, DocumentType> = {
  txt: 'text/plain',
  text: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  pdf: 'application/pdf',
};

const ALIASES: Record<string, DocumentType> = { 'text/x-markdown': 'text/markdown' };

/**
 * The document type of a declared content type (parameters such as charset ignored). A
 * generic or missing type (application/octet-stream, which curl sends for .md) is read from
 * the file name's extension. Throws UnsupportedTypeError naming the allowed types.
 */
export function documentType(declared: string | null | undefined, filename?: string): DocumentType {
  const mime = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  if ((DOCUMENT_TYPES as readonly string[]).includes(mime)) return mime as DocumentType;
  if (ALIASES[mime]) return ALIASES[mime];
  const ext = filename?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  if ((!mime || mime === 'application/octet-stream') && ext && BY_EXTENSION[ext]) {
    return BY_EXTENSION[ext];
  }
  throw new UnsupportedTypeError(
    `Documents must be ${DOCUMENT_TYPES.join(', ')} (or a .txt, .md or .pdf file sent as application/octet-stream), but got ${mime ? `"${mime}"` : 'no type'}${filename ? ` for "${filename}"` : ''}`,
    { allowed: [...DOCUMENT_TYPES], got: mime || null },
  );
}

/**
 * Memory a PDF may take while its text is read: 40 times the largest document
 * (DOCUMENT_MAX_BYTES), at least 256 MB.
 */
export const pdfMemoryLimit = (maxBytes: number) => Math.max(256_000_000, 40 * maxBytes);

/**
 * The document's text: UTF-8 text as it is (Markdown keeps its marks, which read well), a
 * PDF's text layer page by page. Throws BadInputError for an empty file, text that is not
 * UTF-8, and a PDF that cannot be read, has no text (a scan needs OCR first) or needs more
 * than pdfMemoryLimit(maxBytes) to read.
 */
export async function documentText(
  bytes: Uint8Array,
  type: DocumentType,
  maxBytes: number = DEFAULT_DOCUMENT_LIMITS.maxBytes,
  tenantId = '',
): Promise<string> {
  if (bytes.length === 0) throw new BadInputError('The document is empty: send a file with text');
  const text =
    type === 'application/pdf' ? await pdfText(bytes, maxBytes, tenantId) : utf8Text(bytes);
  if (text.trim() === '') {
    throw new BadInputError(
      type === 'application/pdf'
        ? 'The PDF has no text to extract (a scanned PDF needs OCR first)'
        : 'The document has only whitespace: send a file with text',
    );
  }
  return text;
}

function utf8Text(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new BadInputError('The document is not UTF-8 text: convert it to UTF-8 and resend it');
  }
  if (text.includes('\u0000')) {
    throw new BadInputError('The document holds NUL bytes, so it is binary, not text');
  }
  return text;
}

async function pdfText(bytes: Uint8Array, maxBytes: number, tenantId: string): Promise<string> {
  if (!Buffer.from(bytes.subarray(0, 1024)).includes('%PDF-')) {
    throw new BadInputError(
      'The file is not a PDF (no %PDF- header): send a real PDF or fix its type',
    );
  }
  return readPdfText(bytes, { maxMemoryBytes: pdfMemoryLimit(maxBytes) }, tenantId);
}
