/**
 * The HTTP client of `npm run bench:api`, in a thread of its own so that sending requests and
 * parsing answers does not run on the servers' thread. One message, { url, headers, query,
 * variables: [...], concurrency }, runs one request per variables entry, `concurrency` at a
 * time, and answers { latencies, wallMs } or { error } (a failed request or a GraphQL error).
 */
import { parentPort } from 'node:worker_threads';

interface Job {
  url: string;
  headers: Record<string, string>;
  query: string;
  variables: Record<string, unknown>[];
  concurrency: number;
}

const port = parentPort!;

port.on('message', (job: Job) => {
  run(job).then(
    (result) => port.postMessage(result),
    (err: unknown) => port.postMessage({ error: String(err) }),
  );
});

async function run(job: Job): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < job.variables.length) {
      const variables = job.variables[next++];
      const sent = performance.now();
      const res = await fetch(job.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...job.headers },
        body: JSON.stringify({ query: job.query, variables }),
      });
      const body = (await res.json()) as { errors?: unknown };
      if (!res.ok || body.errors) {
        throw new Error(`HTTP ${res.status}: ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
      }
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, lane));
  return { latencies, wallMs: performance.now() - started };
}
