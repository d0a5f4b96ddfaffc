/**
 * An HTTP 200 answer that held no model answer: a streamed call's body in which no server-sent
 * event with a chunk arrived (a proxy's login page, a wrong base URL, a server that sent
 * nothing, only keep-alive comments or only the `[DONE]` that ends a stream), which OpenAI's
 * client reads as an empty answer the model would be blamed for; or a call not streamed
 * answered with something other than JSON, which it hands LangChain as text, or with JSON that
 * holds no choice (nothing, `null`, an object without `choices`), which it hands on as it is:
 * both failed in LangChain ("Cannot read properties of undefined") as if permanent.
 */
export class NotAnAnswerError extends Error {
  constructor(
    /** The answer's content-type header, '' when it had none. */
    readonly contentType: string,
    /** Its first characters, whitespace collapsed. */
    readonly head: string,
    /** What the call waited for: server-sent events (it streamed), JSON, or a completion's. */
    readonly expected: Expected,
  ) {
    const type = contentType || 'no content-type';
    const missing =
      expected === 'JSON'
        ? 'instead of JSON'
        : expected === 'choices'
          ? 'but no choices'
          : isEventStream(contentType)
            ? 'but no server-sent event'
            : 'instead of server-sent events';
    super(`answered with ${type} ${missing}${head ? `, starting: ${head}` : ', with no body'}`);
    this.name = 'NotAnAnswerError';
  }
}

/** What an answer must hold: a chunk's event, JSON, or a completion with its `choices`. */
type Expected = 'events' | 'JSON' | 'choices';

/** How much of such an answer a message quotes. */
const HEAD_CHARS = 120;

/** Fetches that check answers, themselves or through the fetch they wrap. */
const checking = new WeakSet<typeof fetch>();

/**
 * A fetch for the OpenAI client whose calls fail with a NotAnAnswerError, when the body of
 * their HTTP 200 answer ends, if no chunk (a `data:` line but `[DONE]`) arrived in an answer
 * typed `text/event-stream` or in any answer to a streamed call, or if a call not streamed was
 * answered with something other than JSON, or (a chat completion) with JSON without a choice.
 * The bytes pass through as they come. An empty answer a model streamed as events, or gave as
 * a choice, stays the model's; JSON that does not parse is the client's to report. Returns
 * `base` when it checks already.
 */
export function eventStreamChecking(base: typeof fetch = globalThis.fetch): typeof fetch {
  if (checking.has(base)) return base;
  const checked: typeof fetch = async (input, init) => {
    const response = await base(input, init);
    if (!response.ok || !response.body) return response;
    const type = response.headers.get('content-type') ?? '';
    const expected = expectedOf(type, input, init);
    if (expected === null) return response;
    const body = response.body.pipeThrough(answerWatch(type, expected));
    const { status, statusText, headers } = response;
    return new Response(body, { status, statusText, headers });
  };
  checking.add(checked);
  return checked;
}

/** `wrapper`, a fetch that calls `base`, checks answers when `base` does. */
export function wrapsChecking(wrapper: typeof fetch, base: typeof fetch): typeof fetch {
  if (checking.has(base)) checking.add(wrapper);
  return wrapper;
}

const mediaType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase();

function isEventStream(contentType: string): boolean {
  return mediaType(contentType) === 'text/event-stream';
}

/** JSON as OpenAI's client takes it (and so parses it). */
function isJson(contentType: string): boolean {
  const media = mediaType(contentType);
  return media.includes('application/json') || media.endsWith('+json');
}

/**
 * What an answer of `contentType` must hold, null when it needs no check. The content-type
 * answers for the common cases, events (streamed) and JSON (not): only a JSON answer and one of
 * any other type need to know whether their call streamed, and a JSON one to which endpoint.
 */
function expectedOf(
  contentType: string,
  input: Parameters<typeof fetch>[0],
  init: RequestInit | undefined,
): Expected | null {
  if (isEventStream(contentType)) return 'events';
  if (isJson(contentType)) {
    if (streamed(init)) return 'events';
    return isChatCompletion(input) ? 'choices' : null;
  }
  return streamed(init) ? 'events' : 'JSON';
}

/** True for a request to Chat Completions, whose answer has `choices` (Responses' has not). */
function isChatCompletion(input: Parameters<typeof fetch>[0]): boolean {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  return /\/chat\/completions(?:[?#]|$)/.test(url);
}

/** False for JSON with no choice in it (`null`, `{}`, `{"choices": []}`) or for no body. */
function holdsChoices(body: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return body.trim() !== ''; // not JSON: the client says it could not read it
  }
  const choices = (value as { choices?: unknown } | null)?.choices;
  return Array.isArray(choices) && choices.length > 0;
}

/**
 * True for a request whose JSON body asks for a stream. OpenAI's client sends JSON.stringify's
 * text, so a body without `"stream":true` in it is not parsed.
 */
function streamed(init: RequestInit | undefined): boolean {
  const body = init?.body;
  if (typeof body !== 'string' || !/"stream"\s*:\s*true/.test(body)) return false;
  try {
    return (JSON.parse(body) as { stream?: unknown }).stream === true;
  } catch {
    return false;
  }
}

/** The event that ends a stream, as OpenAI's client reads it (one space or none). */
const DONE = /^data: ?\[DONE\]$/;
/** How much of a line not yet ended tells chunk from [DONE]. */
const LINE_HEAD = 'data: [DONE]'.length + 1;

/** A line of an event stream: a chunk's, the [DONE] that ends the stream, or neither (null). */
function kindOf(line: string): 'chunk' | 'done' | null {
  if (!line.startsWith('data:')) return null;
  return DONE.test(line) ? 'done' : 'chunk';
}

/**
 * Passes the bytes on; errors the stream when it expected events and the [DONE] that ends
 * them came before any chunk (OpenAI's client stops reading there: an empty answer), or at
 * its end when no chunk came; at its end when it expected JSON (a body that is not: see
 * expectedOf); or at its end when it expected choices and the body held none.
 */
function answerWatch(
  contentType: string,
  expected: Expected,
): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let head = '';
  // The whole body, when it must hold choices: JSON is read whole (the client does so too).
  let body = '';
  // The start of the line not yet ended: only whether it is a chunk's (kindOf) matters.
  let line = '';
  let seen = false;
  const notAnAnswer = () => {
    const quoted = head.replace(/\s+/g, ' ').trim().slice(0, HEAD_CHARS);
    return new NotAnAnswerError(contentType, quoted, expected);
  };
  return new TransformStream({
    transform(chunk, controller) {
      if (seen || (expected === 'JSON' && head.length >= HEAD_CHARS * 4)) {
        return controller.enqueue(chunk);
      }
      const text = decoder.decode(chunk, { stream: true });
      if (head.length < HEAD_CHARS * 4) head += text.slice(0, HEAD_CHARS * 4);
      if (expected === 'choices') body += text;
      if (expected === 'events') {
        const lines = (line + text).split(/\r\n|\r|\n/);
        line = lines.pop()!.slice(0, LINE_HEAD);
        const first = lines.map(kindOf).find((kind) => kind !== null);
        // Not passed on: the client would end the answer there, empty.
        if (first === 'done') return controller.error(notAnAnswer());
        seen = first === 'chunk';
      }
      controller.enqueue(chunk);
    },
    flush(controller) {
      if (expected === 'events' && (seen || kindOf(line) === 'chunk')) return;
      if (expected === 'choices' && holdsChoices(body + decoder.decode())) return;
      controller.error(notAnAnswer());
    },
  });
}
