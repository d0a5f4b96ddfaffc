import { wrapsChecking } from './event-stream.js';

/**
 * What one HTTP answer of an OpenAI-compatible server reported, read off the wire: the client
 * may still throw (OpenAI's `chat.completions.parse` throws on JSON it cannot parse, before
 * LangChain sees any usage), but the tokens were spent.
 */
export interface ServerAnswer {
  /** The completion's id (`chatcmpl-…`); LangChain keeps it as the AIMessage's id. */
  id: string | null;
  /** The model the server says answered. */
  model: string | null;
  prompt: number;
  completion: number;
  /** usage.prompt_tokens_details.cached_tokens: the part of `prompt` read from the cache. */
  cached: number;
}

const count = (n: unknown): number =>
  typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0;

/** The answer a Chat Completions JSON body describes; undefined without a usage object. */
export function serverAnswerOf(body: unknown): ServerAnswer | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as {
    id?: unknown;
    model?: unknown;
    usage?: {
      prompt_tokens?: unknown;
      completion_tokens?: unknown;
      prompt_tokens_details?: { cached_tokens?: unknown } | null;
    } | null;
  };
  if (typeof b.usage !== 'object' || b.usage === null) return undefined;
  return {
    id: typeof b.id === 'string' ? b.id : null,
    model: typeof b.model === 'string' && b.model.trim() !== '' ? b.model : null,
    prompt: count(b.usage.prompt_tokens),
    completion: count(b.usage.completion_tokens),
    cached: count(b.usage.prompt_tokens_details?.cached_tokens),
  };
}

/**
 * A fetch for the OpenAI client that hands every successful JSON answer's usage to `onAnswer`
 * before the client reads it (a copy of the body is read; the client gets the response
 * untouched). Streams are left alone: their usage reaches LangChain in the last chunk, and a
 * structured answer is parsed only after the stream ended. It wraps `base` (the model's own
 * fetch, which checks that a 200 holds an answer: event-stream.ts).
 */
export function answerReadingFetch(
  onAnswer: (answer: ServerAnswer) => void,
  base: typeof fetch = globalThis.fetch,
): typeof fetch {
  return wrapsChecking(async (input, init) => {
    const response = await base(input, init);
    if (response.ok && (response.headers.get('content-type') ?? '').includes('application/json')) {
      try {
        const answer = serverAnswerOf(await response.clone().json());
        if (answer) onAnswer(answer);
      } catch {
        // An unreadable body: the client reports it; there is no usage to keep.
      }
    }
    return response;
  }, base);
}
