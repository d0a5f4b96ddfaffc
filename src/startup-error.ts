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

/** Listens on `port` at `host`; a port in use is a StartupError naming `variable`. */
export function listenOn(server: Server, port: number, host: string, variable: string) {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES'
          ? new StartupError(
              `${variable} ${port}: ${host}:${port} is ${err.code === 'EADDRINUSE' ? 'in use by another process' : 'not allowed for this user'}; stop that process or set ${variable} to a free port`,
            )
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
}
