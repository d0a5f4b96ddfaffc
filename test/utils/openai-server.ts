import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Token counts as OpenAI reports them; total_tokens is always their sum. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

/**
 * An assistant answer. Without `usage`, tokens are counted as ceil(chars / 4). `finishReason`
 * overrides the finish_reason ("length": the answer was cut off at max_tokens).
 */
export type AnswerReply = (
  | { content: string; usage?: Usage }
  | { toolCalls: { name: string; args: object }[]; content?: string; usage?: Usage }
  | { json: object; usage?: Usage }
) & { finishReason?: string };

/**
 * One scripted reply: an answer; an OpenAI-style error (`retryAfter` seconds sets the
 * retry-after header); an answer after `delayMs`; or `raw` bytes sent with status 200
 * (in streaming mode they are the whole SSE body, so frame them as `data: ...\n\n`), as
 * `contentType` when set (a proxy's `text/html` page), else as the mode's usual type.
 */
export type Reply =
  | AnswerReply
  | { status: number; error?: string; retryAfter?: number }
  | { delayMs: number; then: Reply }
  | { raw: string; contentType?: string }
  /** `cut` bytes sent with status 200, then the connection dropped (a server that died). */
  | { cut: string };

export interface ChatMessage {
  role: string;
  content: string | { type: string; text?: string }[] | null;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** A parsed POST /v1/chat/completions body, as the client sent it. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  tools?: { type: string; function: { name: string; description?: string; parameters?: object } }[];
  tool_choice?: unknown;
  response_format?: { type: string; json_schema?: { name: string; schema?: object } };
  [key: string]: unknown;
}

export interface ScriptedOpenAI {
  /** e.g. http://127.0.0.1:PORT/v1 — pass as ChatOpenAI `configuration.baseURL`. */
  baseURL: string;
  /** Every parsed request body, in arrival order (retries included). */
  requests: ChatRequest[];
  /** Appends replies; queued replies play before the script function is consulted. */
  enqueue(...replies: Reply[]): void;
  close(): Promise<void>;
}

// Fixed so that responses are reproducible byte for byte.
const CREATED = 1_700_000_000;
const FINGERPRINT = 'fp_scripted';

const errorBody = (message: string, type: string, code: string | null = null) => ({
  error: { message, type, param: null, code },
});

const KNOWN_ERRORS: Record<number, ReturnType<typeof errorBody>> = {
  429: errorBody('Rate limit reached for requests.', 'requests', 'rate_limit_exceeded'),
  500: errorBody('The server had an error while processing your request.', 'server_error'),
};

const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

function promptText(req: ChatRequest): string {
  const parts = req.messages.map((m) =>
    typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join(''),
  );
  return parts.join('\n') + (req.tools ? JSON.stringify(req.tools) : '');
}

interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

interface Answer {
  content: string | null;
  toolCalls: ToolCall[];
  usage: Usage & { total_tokens: number };
  finishReason: string;
}

function answerOf(reply: AnswerReply, req: ChatRequest, n: number): Answer {
  const content = 'json' in reply ? JSON.stringify(reply.json) : (reply.content ?? null);
  const toolCalls = ('toolCalls' in reply ? reply.toolCalls : []).map((call, i): ToolCall => ({
    id: `call_${n}_${i}`,
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args) },
  }));
  const completion = (content ?? '') + toolCalls.map((c) => JSON.stringify(c.function)).join('');
  const usage = reply.usage ?? {
    prompt_tokens: tokens(promptText(req)),
    completion_tokens: tokens(completion),
  };
  const total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const finishReason = reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop');
  return { content, toolCalls, usage: { ...usage, total_tokens }, finishReason };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendCompletion(res: ServerResponse, req: ChatRequest, n: number, a: Answer): void {
  const head = { id: `chatcmpl-${n}`, created: CREATED, model: req.model };
  const finish_reason = a.finishReason;
  const tools = a.toolCalls.length > 0 ? { tool_calls: a.toolCalls } : {};
  const message = { role: 'assistant', content: a.content, refusal: null, ...tools };
  sendJson(res, 200, {
    ...head,
    object: 'chat.completion',
    system_fingerprint: FINGERPRINT,
    choices: [{ index: 0, message, logprobs: null, finish_reason }],
    usage: a.usage,
  });
}

/** Sends the answer as OpenAI's SSE chunks: role, content words, tool-call fragments, finish. */
function streamCompletion(res: ServerResponse, req: ChatRequest, n: number, a: Answer): void {
  const withUsage = req.stream_options?.include_usage === true;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (choices: unknown[], usage: Answer['usage'] | null = null): void => {
    const chunk = {
      ...{ id: `chatcmpl-${n}`, object: 'chat.completion.chunk', created: CREATED },
      ...{ model: req.model, system_fingerprint: FINGERPRINT, choices },
      // OpenAI sends usage: null on every chunk but the last when usage was asked for.
      ...(withUsage ? { usage } : {}),
    };
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  const delta = (d: object, finish_reason: string | null = null) => [
    { index: 0, delta: d, logprobs: null, finish_reason },
  ];

  send(delta({ role: 'assistant', content: a.content === null ? null : '', refusal: null }));
  for (const word of a.content?.match(/\s*\S+\s*/g) ?? []) send(delta({ content: word }));
  a.toolCalls.forEach(({ id, type, function: fn }, index) => {
    send(delta({ tool_calls: [{ index, id, type, function: { name: fn.name, arguments: '' } }] }));
    for (const fragment of fn.arguments.match(/.{1,8}/gs) ?? []) {
      send(delta({ tool_calls: [{ index, function: { arguments: fragment } }] }));
    }
  });
  send(delta({}, a.finishReason));
  if (withUsage) send([], a.usage);
  res.end('data: [DONE]\n\n');
}

/**
 * Starts a loopback server on 127.0.0.1:0 speaking the OpenAI Chat Completions API
 * (POST /v1/chat/completions only; anything else is a 404) that plays scripted replies, so the
 * real OpenAI/LangChain client runs without the internet. Replies come from the queue (the
 * `script` array, then `enqueue`), else from the `script` function (`n` counts requests from 0).
 * A request with nothing to play gets a 400 with code 'script_exhausted'.
 */
export async function startScriptedOpenAI(
  script: Reply[] | ((req: ChatRequest, n: number) => Reply) = [],
): Promise<ScriptedOpenAI> {
  const queue: Reply[] = Array.isArray(script) ? [...script] : [];
  const requests: ChatRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const play = (res: ServerResponse, req: ChatRequest, n: number, reply: Reply): void => {
    if ('delayMs' in reply) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) play(res, req, n, reply.then);
      }, reply.delayMs);
      timers.add(timer);
      res.on('close', () => clearTimeout(timer));
    } else if ('cut' in reply) {
      res.writeHead(200, {
        'content-type': req.stream ? 'text/event-stream' : 'application/json',
      });
      res.write(reply.cut, () => setTimeout(() => res.destroy(), 50));
    } else if ('raw' in reply) {
      res.writeHead(200, {
        'content-type':
          reply.contentType ?? (req.stream ? 'text/event-stream' : 'application/json'),
      });
      res.end(reply.raw);
    } else if ('status' in reply) {
      const known = KNOWN_ERRORS[reply.status] ?? errorBody('Error', 'invalid_request_error');
      const body = { error: { ...known.error, message: reply.error ?? known.error.message } };
      const headers =
        reply.retryAfter === undefined ? {} : { 'retry-after': `${reply.retryAfter}` };
      sendJson(res, reply.status, body, headers);
    } else {
      (req.stream ? streamCompletion : sendCompletion)(res, req, n, answerOf(reply, req, n));
    }
  };

  const handle = async (httpReq: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of httpReq) chunks.push(chunk as Buffer);
    if (httpReq.method !== 'POST' || httpReq.url?.split('?')[0] !== '/v1/chat/completions') {
      const message = `Only POST /v1/chat/completions is scripted, but got ${httpReq.method} ${httpReq.url}`;
      return sendJson(res, 404, errorBody(message, 'invalid_request_error'));
    }
    let req: ChatRequest;
    try {
      req = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
    } catch {
      return sendJson(res, 400, errorBody('Request body must be JSON', 'invalid_request_error'));
    }
    const n = requests.push(req) - 1;
    const reply = queue.shift() ?? (typeof script === 'function' ? script(req, n) : undefined);
    if (reply) return play(res, req, n, reply);
    const message = `Scripted OpenAI has no reply left for request #${n}`;
    sendJson(res, 400, errorBody(message, 'invalid_request_error', 'script_exhausted'));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, errorBody(`Scripted OpenAI failed: ${err}`, 'server_error'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
