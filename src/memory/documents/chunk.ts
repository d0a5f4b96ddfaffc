/** How chunkText cuts: about `size` characters a chunk, `overlap` of them repeated from the last. */
export interface ChunkOptions {
  size: number;
  /** Defaults to a tenth of `size`. */
  overlap?: number;
}

const HEADING = /^#{1,6}\s/;
const SEPARATOR = '\n\n';

/**
 * Cuts text into chunks of at most `size` characters. Paragraphs (blank-line separated) and Markdown headings
 * are kept whole where they fit; a new section starts a new chunk once the current one is half
 * full. A paragraph longer than a chunk is cut between words, never inside one (only a single
 * "word" longer than a whole chunk, such as a long URL or base64, is cut). Each chunk after the
 * first starts with the last words of the one before (up to `overlap` characters), so a fact
 * spanning a cut is seen whole once, except after a heading, where a section starts clean.
 * Deterministic: the same text and options give the same chunks. Empty text gives [].
 */
export function chunkText(text: string, options: ChunkOptions): string[] {
  const size = Math.max(1, Math.floor(options.size));
  const overlap = Math.max(0, Math.min(Math.floor(options.overlap ?? size / 10), size / 2));
  // Room for a unit once the overlap and a separator are in front of it.
  const unitMax = Math.max(1, size - overlap - SEPARATOR.length);
  const chunks: string[] = [];
  let current: string[] = [];
  let length = 0;

  const flush = () => {
    if (current.length > 0) chunks.push(current.join(SEPARATOR));
    current = [];
    length = 0;
  };
  const add = (piece: string) => {
    length += (current.length > 0 ? SEPARATOR.length : 0) + piece.length;
    current.push(piece);
  };

  for (const block of blocks(text)) {
    const heading = HEADING.test(block);
    if (heading && length > size / 2) flush();
    for (const unit of splitWords(block, unitMax)) {
      if (current.length > 0 && length + SEPARATOR.length + unit.length > size) {
        const previous = current.join(SEPARATOR);
        flush();
        const tail = tailWords(previous, overlap);
        if (tail) add(tail);
      }
      add(unit);
    }
  }
  flush();
  return chunks;
}

/**
 * The text as chunkText reads it: its paragraphs and headings, trimmed, one blank line between
 * them (line endings, trailing spaces and extra blank lines evened out). Two texts with the same
 * normalised text make the same chunks, whatever the chunk size: a document's identity.
 */
export function normalisedText(text: string): string {
  return blocks(text).join(SEPARATOR);
}

/** Paragraphs and headings, trimmed, in order; a heading line always starts a block. */
function blocks(text: string): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let para: string[] = [];
  const end = () => {
    const joined = para.join('\n').trim();
    if (joined) out.push(joined);
    para = [];
  };
  for (const line of lines) {
    if (line.trim() === '') end();
    else {
      if (HEADING.test(line)) end();
      para.push(line.trimEnd());
    }
  }
  end();
  return out;
}

/** The block as is when it fits, else cut at the last whitespace before `max` characters. */
function splitWords(block: string, max: number): string[] {
  const out: string[] = [];
  let rest = block;
  while (rest.length > max) {
    let cut = -1;
    for (let i = max; i > 0; i--) {
      if (/\s/.test(rest[i]!)) {
        cut = i;
        break;
      }
    }
    // One "word" longer than a chunk: nothing to do but cut it.
    if (cut <= 0) cut = max;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) out.push(rest);
  return out;
}

/** The last whole words of `text` that fit in `max` characters ('' when none does). */
function tailWords(text: string, max: number): string {
  if (max <= 0) return '';
  if (text.length <= max) return text;
  const tail = text.slice(text.length - max);
  // Drop the first, possibly partial, word unless the cut fell on whitespace.
  if (/\s/.test(text[text.length - max - 1]!)) return tail.trim();
  const space = tail.search(/\s/);
  return space < 0 ? '' : tail.slice(space).trim();
}
