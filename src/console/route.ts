import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

/** Where the console's build output lives (console/dist), from this file's place in src/. */
export const CONSOLE_DIST = resolve(import.meta.dirname, '../../console/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/**
 * The console talks only to this origin (GraphQL over HTTP and graphql-ws, POST /documents);
 * graph layout runs in a worker that NVL may start from a blob.
 */
const CSP = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
].join('; ');

/**
 * GET /console/…: the console's single-page app from its build output. Hashed assets are cached
 * for good; index.html never, so a new build is picked up on reload. A path without a file
 * extension is a screen of the app and gets index.html.
 */
export function consoleRoute(dir = CONSOLE_DIST) {
  const root = resolve(dir);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      return void res.end('The console is read with GET\n');
    }
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname === '/console') {
      res.writeHead(308, { location: '/console/' });
      return void res.end();
    }
    if (!pathname.startsWith('/console/')) return notFound(res);
    let relative: string;
    try {
      relative = decodeURIComponent(pathname.slice('/console/'.length));
    } catch {
      return notFound(res);
    }
    const index = resolve(root, 'index.html');
    const asked = resolve(root, relative || 'index.html');
    if (asked !== root && !asked.startsWith(root + sep)) return notFound(res);
    // A file of the build; else a screen of the app (no extension) gets the app.
    const file = (await isFile(asked))
      ? asked
      : extname(asked) === '' || asked === index
        ? index
        : null;
    if (!file) return notFound(res);
    if (file === index && !(await isFile(index))) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end(
        'The console is not built: run `npm run console:build` (npm start builds it when it can)\n',
      );
    }
    const hashed = file.startsWith(resolve(root, 'assets') + sep);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    if (req.method === 'HEAD') return void res.end();
    await new Promise<void>((done) => {
      createReadStream(file)
        .on('error', () => {
          res.destroy();
          done();
        })
        .on('end', done)
        .pipe(res);
    });
  };
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('Nothing here: the console starts at /console/\n');
}
