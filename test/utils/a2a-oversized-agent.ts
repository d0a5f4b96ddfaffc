import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How far one oversized answer got: bytes written, and whether it was sent to its end. */
export interface Sent {
  bytes: number;
  finished: boolean;
}

export interface OversizedA2AAgent {
  url: string;
  /** Makes its card the oversized answer (else its SendMessage reply is). */
  bigCard(on: boolean): void;
  /** The oversized answers it gave, in order, once each connection ended. */
  sent: Sent[];
  close(): Promise<void>;
}

const CHUNK = 'word '.repeat(13_107); // ~64 KiB

/**
 * An outside A2A agent, skill `hoarding`, whose card or SendMessage reply is valid JSON of
 * about `bytes` bytes, written with backpressure: a reader that stops reading at a limit stops
 * it too (`sent` shows how far it got), one that reads everything gets everything.
 */
export async function startOversizedA2AAgent(bytes: number): Promise<OversizedA2AAgent> {
  let cardIsBig = false;
  const sent: Sent[] = [];
  const card = (url: string, skillDescription: string) => ({
    name: 'Hoarder',
    description: 'Answers at great length',
    supportedInterfaces: [
      { url: `${url}/a2a`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
    ],
    version: '1.0.0',
    skills: [{ id: 'hoarding', name: 'hoarding', description: skillDescription }],
  });
  async function stream(res: ServerResponse, json: string) {
    const [head, tail] = json.split('@FILL@') as [string, string];
    res.setHeader('content-type', 'application/json');
    const out: Sent = { bytes: 0, finished: false };
    res.on('close', () => sent.push({ ...out, finished: res.writableFinished }));
    const write = async (s: string) => {
      out.bytes += Buffer.byteLength(s);
      if (!res.write(s))
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go).off('close', go);
            resolve();
          };
          res.on('drain', go).on('close', go);
        });
    };
    await write(head);
    while (out.bytes < bytes && !res.destroyed) await write(CHUNK);
    if (!res.destroyed) res.end(tail);
  }
  const http = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/.well-known/agent-card.json') {
        if (!cardIsBig) return res.end(JSON.stringify(card(base, 'hoards')));
        return stream(res, JSON.stringify(card(base, '@FILL@')));
      }
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const { id } = JSON.parse(body) as { id: number };
      const task = {
        id: 'hoard-1',
        contextId: 'hoard',
        status: { state: 'TASK_STATE_COMPLETED' },
        artifacts: [{ artifactId: 'a', name: 'a', parts: [{ text: '@FILL@' }] }],
      };
      await stream(res, JSON.stringify({ jsonrpc: '2.0', id, result: { task } }));
    })();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url: base,
    bigCard: (on) => {
      cardIsBig = on;
    },
    sent,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
