/**
 * The subscribers of the subscriptions benchmark, in a thread of their own so their parsing
 * does not run on the API's thread: N graphql-ws connections (the protocol spoken directly over
 * `ws`, a few hundred bytes each instead of a client library per socket), each with one
 * subscription. Messages from the main thread:
 * - { open: { url, key, query, variables, n } } -> { opened: n } once every socket has its ack;
 * - { expect: round } -> { received: round, times } once every socket got one result for the
 *   round, `times` being the receive times (ms since the epoch, performance clock), `errors`
 *   how many of those results carried errors;
 * - { mutate: { url, key, query, variables } } -> { mutated: ms, sentAt }: the status change,
 *   sent from this thread too, so that the API's thread is the API's alone;
 * - { close: true } -> { closed: true }.
 * A closed socket or a refused subscription is reported as { error } and ends the run.
 */
import { parentPort } from 'node:worker_threads';
import WebSocket from 'ws';

const port = parentPort!;
let sockets: WebSocket[] = [];
let times: number[] = [];
let errors = 0;
let waitingFor: unknown = null;

const now = () => performance.timeOrigin + performance.now();

port.on('message', (msg: Record<string, unknown>) => {
  if (msg.open)
    void open(msg.open as Open).catch((err: unknown) => port.postMessage({ error: String(err) }));
  if (msg.expect !== undefined) {
    waitingFor = msg.expect;
    times = [];
    errors = 0;
  }
  if (msg.status) {
    port.postMessage({ status: { sockets: sockets.length, received: times.length, waitingFor } });
  }
  if (msg.mutate)
    void mutate(msg.mutate as Mutate).catch((err: unknown) =>
      port.postMessage({ error: String(err) }),
    );
  if (msg.close) {
    const closing = sockets;
    sockets = []; // before close(): their close events are expected now
    for (const s of closing) s.close();
    port.postMessage({ closed: true });
  }
});

interface Open {
  url: string;
  key: string;
  query: string;
  variables: Record<string, unknown>;
  n: number;
}

async function open(o: Open): Promise<void> {
  // In batches: thousands of simultaneous handshakes only measure the accept queue.
  for (let i = 0; i < o.n; i += 200) {
    const batch = Array.from({ length: Math.min(200, o.n - i) }, () => connect(o));
    sockets.push(...(await Promise.all(batch)));
  }
  port.postMessage({ opened: sockets.length });
}

function connect(o: Open): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(o.url, 'graphql-transport-ws');
    socket.on('error', reject);
    socket.on('close', (code, reason) => {
      if (sockets.includes(socket))
        port.postMessage({ error: `socket closed ${code} ${reason.toString()}` });
    });
    socket.on('open', () =>
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${o.key}` } }),
      ),
    );
    socket.on('message', (data) => {
      const at = now();
      const message = JSON.parse(data.toString()) as {
        type: string;
        payload?: { errors?: unknown };
      };
      if (message.type === 'connection_ack') {
        socket.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: { query: o.query, variables: o.variables },
          }),
        );
        resolve(socket);
      } else if (message.type === 'next') {
        // A result with errors is counted, not fatal: overload is something to measure.
        if (message.payload?.errors) errors += 1;
        times.push(at);
        if (times.length === sockets.length && waitingFor !== null) {
          port.postMessage({ received: waitingFor, times, errors });
          waitingFor = null;
        }
      } else if (message.type === 'complete') {
        port.postMessage({ error: 'the server completed a subscription' });
      } else if (message.type === 'error') {
        port.postMessage({ error: JSON.stringify(message.payload) });
      }
    });
  });
}

interface Mutate {
  url: string;
  key: string;
  query: string;
  variables: Record<string, unknown>;
}

async function mutate(m: Mutate): Promise<void> {
  const sentAt = now();
  const res = await fetch(m.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${m.key}` },
    body: JSON.stringify({ query: m.query, variables: m.variables }),
  });
  const body = (await res.json()) as { errors?: unknown };
  if (body.errors) throw new Error(`the mutation failed: ${JSON.stringify(body.errors)}`);
  port.postMessage({ mutated: now() - sentAt, sentAt });
}
