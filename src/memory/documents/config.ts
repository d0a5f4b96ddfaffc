import { z } from 'zod';
import { wholeNumber } from '../../config/env-number.js';

/** What an uploaded or ingested document may be (issue 11). */
export interface DocumentLimits {
  /** Largest file (or text, in UTF-8 bytes) accepted; larger gets PAYLOAD_TOO_LARGE (413). */
  maxBytes: number;
  /** Most chunks (episodes) one document may make; more gets LIMIT_EXCEEDED (413). */
  maxChunks: number;
  /** About this many characters per chunk; chunks overlap by a tenth of it. */
  chunkChars: number;
}

export const DEFAULT_DOCUMENT_LIMITS: Readonly<DocumentLimits> = Object.freeze({
  maxBytes: 10_000_000,
  // Each chunk is an episode with one extraction call: a thousand is already a long ingestion.
  maxChunks: 1000,
  chunkChars: 1500,
});

const positiveInt = (fallback: number, min = 1) => wholeNumber(min).default(fallback);

/** Spread into src/config/config.ts's env schema, as limitsEnvSchema is. */
export const documentsEnvSchema = z.object({
  DOCUMENT_MAX_BYTES: positiveInt(DEFAULT_DOCUMENT_LIMITS.maxBytes),
  DOCUMENT_MAX_CHUNKS: positiveInt(DEFAULT_DOCUMENT_LIMITS.maxChunks),
  // Below a couple of hundred characters a chunk carries too little context to extract from.
  DOCUMENT_CHUNK_CHARS: positiveInt(DEFAULT_DOCUMENT_LIMITS.chunkChars, 200),
});

export function documentsFromEnv(parsed: z.infer<typeof documentsEnvSchema>): DocumentLimits {
  return {
    maxBytes: parsed.DOCUMENT_MAX_BYTES,
    maxChunks: parsed.DOCUMENT_MAX_CHUNKS,
    chunkChars: parsed.DOCUMENT_CHUNK_CHARS,
  };
}
