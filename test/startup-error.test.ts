import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenOn, StartupError } from '../src/cli/startup-error.js';

describe('listenOn', () => {
  // A walk of 2026-12-08: HOST=192.0.2.1 (no interface of this machine) or a mistyped name
  // stopped start-up with "Error: listen EADDRNOTAVAIL" and its stack, naming no variable.
  it('names HOST when no interface of this machine has its address', async () => {
    const server = createServer();
    const listening = listenOn(server, 0, '192.0.2.1', 'PORT');
    await expect(listening).rejects.toThrow(StartupError);
    await expect(listening).rejects.toThrow(
      'HOST 192.0.2.1: no interface of this machine has this address; set HOST to one it has, such as 127.0.0.1 or 0.0.0.0 (all)',
    );
  });

  it('names METRICS_HOST for the metrics port', async () => {
    const listening = listenOn(createServer(), 0, '192.0.2.1', 'METRICS_PORT');
    await expect(listening).rejects.toThrow(/^METRICS_HOST 192\.0\.2\.1: no interface/);
  });

  it('names the port variable when the port is taken', async () => {
    const first = createServer();
    await listenOn(first, 0, '127.0.0.1', 'PORT');
    const { port } = first.address() as { port: number };
    try {
      await expect(listenOn(createServer(), port, '127.0.0.1', 'PORT')).rejects.toThrow(
        `PORT ${port}: 127.0.0.1:${port} is in use by another process`,
      );
    } finally {
      first.close();
    }
  });
});
