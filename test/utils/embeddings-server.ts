import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashedNgramVector } from '../../src/memory/embeddings/offline.embedder.js';

/** A parsed POST /v1/embeddings body, as the client sent it. */
export interface EmbeddingsRequest {
  model: string;
  input: string | string[];
  dimensions?: number;
  encoding_format?: string;
  [key: string]: unknown;
}

export interface LoopbackEmbeddings {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseURL: string;
  requests: EmbeddingsRequest[];
  /** The Authorization header of each request. */
  authorizations: (string | undefined)[];
  /** The most requests that were being answered at the same time. */
  maxConcurrent: number;
  /** From now on answer every request with this status (an outage), or normally (undefined). */
  setStatus(status: number | undefined): void;
  close(): Promise<void>;
}

export interface LoopbackEmbeddingsOptions {
  /** Size of the vectors answered. */
  dimensions: number;
  /** Each answer waits this long (to observe concurrency and aborts). */
  delayMs?: number;
  /** Answer every request with this HTTP status and an OpenAI-style error. */
  status?: number;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A loopback server speaking OpenAI's embeddings API (POST /v1/embeddings, float encoding).
 * Vectors are the offline embedder's, scaled by 3, so clients must normalise them.
 */
export async function startLoopbackEmbeddings(
  options: LoopbackEmbeddingsOptions,
): Promise<LoopbackEmbeddings> {
  let inFlight = 0;
  let status = options.status;
  const state = {
    requests: [] as EmbeddingsRequest[],
    authorizations: [] as (string | undefined)[],
    maxConcurrent: 0,
  };
  const server = createServer(async (req, res) => {
    inFlight++;
    state.maxConcurrent = Math.max(state.maxConcurrent, inFlight);
    try {
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/embeddings') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      const parsed = JSON.parse(await body(req)) as EmbeddingsRequest;
      state.requests.push(parsed);
      state.authorizations.push(req.headers.authorization);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (status) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'scripted failure', type: 'server_error' } }));
        return;
      }
      const inputs = Array.isArray(parsed.input) ? parsed.input : [parsed.input];
      const data = inputs.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: hashedNgramVector(text, options.dimensions).map((x) => x * 3),
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          data,
          model: parsed.model,
          usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
        }),
      );
    } finally {
      inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return state.requests;
    },
    get authorizations() {
      return state.authorizations;
    },
    get maxConcurrent() {
      return state.maxConcurrent;
    },
    setStatus: (next) => {
      status = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
