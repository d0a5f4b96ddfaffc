import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoute } from '../src/console/route.js';

async function serve(dir: string): Promise<{ server: Server; base: string }> {
  const route = consoleRoute(dir);
  const server = createServer((req, res) => void route(req, res));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('GET /console', () => {
  const root = mkdtempSync(join(tmpdir(), 'console-route-'));
  const dist = join(root, 'dist');
  let built: { server: Server; base: string };
  let unbuilt: { server: Server; base: string };

  beforeAll(async () => {
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dist, 'assets', 'index-abc.js'), 'console.log(1)');
    writeFileSync(join(root, 'secret.txt'), 'not served');
    built = await serve(dist);
    unbuilt = await serve(join(root, 'missing'));
  });
  afterAll(() => {
    built.server.close();
    unbuilt.server.close();
  });

  it('redirects /console to /console/ and serves the app with a strict policy, never cached', async () => {
    const bare = await fetch(`${built.base}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/console/');
    const page = await fetch(`${built.base}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<title>console</title>');
  });

  it('caches hashed assets for good and gives a screen’s path the app', async () => {
    const asset = await fetch(`${built.base}/console/assets/index-abc.js`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const screen = await fetch(`${built.base}/console/tasks/123`);
    expect(screen.status).toBe(200);
    expect(await screen.text()).toContain('<title>console</title>');
  });

  it('answers 404 for a missing file, a path out of the build and a malformed one; 405 for a write', async () => {
    expect((await fetch(`${built.base}/console/assets/nope.js`)).status).toBe(404);
    for (const path of [
      '/console/..%2fsecret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/%E0%A4%A',
    ]) {
      const res = await fetch(`${built.base}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain('not served');
    }
    const post = await fetch(`${built.base}/console/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('says how to build the console when its build is missing', async () => {
    const res = await fetch(`${unbuilt.base}/console/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run console:build');
  });
});
