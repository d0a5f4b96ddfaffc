import type { Server } from 'node:net';

/**
 * A start-up failure whose message says what to fix (Redis away, a port taken): runEntry
 * prints it as one line, not as a bug's stack.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/**
 * Listens on `port` at `host`; a port in use, or a host this machine has no interface for,
 * is a StartupError naming `variable` (PORT, METRICS_PORT) or its host (HOST, METRICS_HOST).
 */
export function listenOn(server: Server, port: number, host: string, variable: string) {
  const hostVariable = variable.replace(/PORT$/, 'HOST');
  const refusal = (err: NodeJS.ErrnoException): Error => {
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
      const why =
        err.code === 'EADDRINUSE' ? 'in use by another process' : 'not allowed for this user';
      return new StartupError(
        `${variable} ${port}: ${host}:${port} is ${why}; stop that process or set ${variable} to a free port`,
      );
    }
    // EADDRNOTAVAIL: an address of another machine; ENOTFOUND, EAI_AGAIN: a name none resolve.
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
      return new StartupError(
        `${hostVariable} ${host}: no interface of this machine has this address; set ${hostVariable} to one it has, such as 127.0.0.1 or 0.0.0.0 (all)`,
      );
    }
    return err;
  };
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(refusal(err)));
    server.listen(port, host, () => resolve());
  });
}
