/**
 * A streamed call's HTTP 200 answer that was not server-sent events (a proxy's login page, a
 * wrong base URL): no event arrived and it was not typed as events. OpenAI's client reads
 * such a body as a stream with no event in it, an empty answer the model would be blamed for.
 */
export class NotEventStreamError extends Error {
  constructor(
    /** The answer's content-type header, '' when it had none. */
    readonly contentType: string,
    /** Its first characters, whitespace collapsed. */
    readonly head: string,
  ) {
    super(`a streamed answer of ${contentType || 'no content-type'} with no server-sent event`);
    this.name = 'NotEventStreamError';
  }
}

/** How much of such an answer a message quotes. */
const HEAD_CHARS = 120;

/** Fetches that check streamed answers, themselves or through the fetch they wrap. */
const checking = new WeakSet<typeof fetch>();

/**
 * A fetch for the OpenAI client whose streamed calls fail with a NotEventStreamError, when
 * their body ends, if the answer was a 200 not typed `text/event-stream` in which no event
 * (a `data:` line) arrived. The bytes pass through as they come; an answer typed as events is
 * left alone, so an empty answer a model streamed stays the model's. Returns `base` when it
 * checks already.
 */
export function eventStreamChecking(base: typeof fetch = globalThis.fetch): typeof fetch {
  if (checking.has(base)) return base;
  const checked: typeof fetch = async (input, init) => {
    const response = await base(input, init);
    const type = response.headers.get('content-type') ?? '';
    if (!response.ok || !response.body || !streamed(init) || /text\/event-stream/i.test(type)) {
      return response;
    }
    const body = response.body.pipeThrough(eventWatch(type));
    const { status, statusText, headers } = response;
    return new Response(body, { status, statusText, headers });
  };
  checking.add(checked);
  return checked;
}

/** `wrapper`, a fetch that calls `base`, checks streamed answers when `base` does. */
export function wrapsChecking(wrapper: typeof fetch, base: typeof fetch): typeof fetch {
  if (checking.has(base)) checking.add(wrapper);
  return wrapper;
}

/** True for a request whose JSON body asks for a stream. */
function streamed(init: RequestInit | undefined): boolean {
  if (typeof init?.body !== 'string') return false;
  try {
    return (JSON.parse(init.body) as { stream?: unknown }).stream === true;
  } catch {
    return false;
  }
}

/** Passes the bytes on; errors the stream at its end when no `data:` line was among them. */
function eventWatch(contentType: string): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let head = '';
  // The start of the line not yet ended: only whether it starts with "data:" matters.
  let line = '';
  let seen = false;
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      if (seen) return;
      const text = decoder.decode(chunk, { stream: true });
      if (head.length < HEAD_CHARS * 4) head += text.slice(0, HEAD_CHARS * 4);
      const lines = (line + text).split(/\r\n|\r|\n/);
      line = lines.pop()!.slice(0, 5);
      seen = lines.some((l) => l.startsWith('data:'));
    },
    flush(controller) {
      if (seen || line.startsWith('data:')) return;
      const quoted = head.replace(/\s+/g, ' ').trim().slice(0, HEAD_CHARS);
      controller.error(new NotEventStreamError(contentType, quoted));
    },
  });
}
