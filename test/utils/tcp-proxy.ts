import { createServer, connect, type Server, type Socket } from 'node:net';
import { inject } from 'vitest';
import { connectGraph, type Graph } from '../../graph/graph.js';

export interface TcpProxy {
  port: number;
  /**
   * Round trips so far: how many times a client sent after the server last answered it (or
   * for the first time), over all connections. Bolt messages sent together count once.
   */
  readonly exchanges: number;
  /** Simulates the target going down: open connections are cut and new ones refused. */
  cut(): Promise<void>;
  /**
   * Simulates a partition behind a proxy: open connections are cut, new ones are accepted
   * and then hang (nothing is forwarded, nothing answers).
   */
  hang(): void;
  /** Accepts and forwards connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy to `target` that a test can cut and restore: how a suite takes "its"
 * Neo4j away without stopping the Neo4j that every other suite shares.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  let hanging = false;
  let exchanges = 0;
  const server: Server = createServer((client) => {
    track(client);
    if (hanging) return;
    const upstream = connect(target.port, target.host);
    track(upstream);
    let answered = true;
    client.on('data', () => {
      if (answered) exchanges++;
      answered = false;
    });
    upstream.on('data', () => (answered = true));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const stop = async () => {
    const closed = server.listening
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  const port = await listen(0);
  return {
    port,
    get exchanges() {
      return exchanges;
    },
    cut: stop,
    hang() {
      hanging = true;
      for (const socket of sockets) socket.destroy();
    },
    restore: async () => {
      if (hanging) for (const socket of sockets) socket.destroy();
      hanging = false;
      if (!server.listening) await listen(port);
    },
    close: stop,
  };
}

/** A Graph connected to the test Neo4j through a proxy of its own, which the suite controls. */
export async function neo4jThroughProxy(): Promise<{ proxy: TcpProxy; graph: Graph }> {
  const settings = inject('neo4j');
  const target = new URL(settings.uri.replace(/^[a-z+]+:/, 'http:'));
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 7687) });
  const graph = await connectGraph(
    { ...settings, uri: `bolt://127.0.0.1:${proxy.port}` },
    { log: () => {}, attempts: 3 },
  );
  return { proxy, graph };
}
