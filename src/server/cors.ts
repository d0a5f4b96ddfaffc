import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { A2A_PATH, CARD_PATH } from '../a2a/card.js';

/**
 * The paths a browser app on a listed origin may call, and their methods. Not /console (served
 * from this origin), /metrics or the probes: nothing in a browser elsewhere needs them.
 */
const CORS_METHODS: Record<string, string> = {
  '/graphql': 'GET, POST',
  '/documents': 'POST',
  '/mcp': 'GET, POST, DELETE',
  [A2A_PATH]: 'POST',
  [CARD_PATH]: 'GET',
};

const ORIGINS_CONTRACT =
  'must be origins such as https://app.example.com or http://localhost:3000 (scheme, host and ' +
  'port if not the default; no path, no trailing slash), separated by commas';

const isOrigin = (text: string) => {
  try {
    const url = new URL(text);
    return /^https?:$/.test(url.protocol) && url.origin === text;
  } catch {
    return false;
  }
};

/**
 * CORS_ORIGINS: the origins whose pages may call the API (Apollo Studio's Sandbox is
 * https://studio.apollographql.com); unset, none. `*` is refused: the list stays explicit.
 */
export const corsOriginsSchema = z
  .string()
  .transform((list) => list.split(',').map((origin) => origin.trim()))
  .superRefine((origins, ctx) => {
    if (origins.includes('*')) {
      const message = 'must name each origin; * (any site) is not accepted';
      ctx.addIssue({ code: 'custom', message });
    } else if (!origins.every(isOrigin)) {
      ctx.addIssue({ code: 'custom', message: ORIGINS_CONTRACT });
    }
  })
  .optional();

/**
 * CORS for `path` when `origins` lists any: an allowed Origin gets its headers, and its
 * preflight (OPTIONS with Access-Control-Request-Method) is answered here, 204. Never
 * Allow-Credentials: keys travel in the Authorization header, which a page sends only when it
 * holds one, never a cookie. Returns true when it answered the request.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  origins: ReadonlySet<string>,
): boolean {
  const methods = CORS_METHODS[path];
  if (origins.size === 0 || methods === undefined) return false;
  // The answer differs by Origin: a shared cache must not hand one origin's to another.
  res.appendHeader('vary', 'Origin');
  const origin = req.headers.origin;
  if (origin === undefined || !origins.has(origin)) return false;
  res.setHeader('access-control-allow-origin', origin);
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
    res.setHeader('access-control-allow-methods', methods);
    // The origin is trusted: whatever headers its client sends (Sandbox adds its own).
    const asked = req.headers['access-control-request-headers'];
    if (asked) res.setHeader('access-control-allow-headers', asked);
    res.setHeader('access-control-max-age', '600');
    res.statusCode = 204;
    res.end();
    return true;
  }
  // 429 and 503 say when to try again.
  res.setHeader('access-control-expose-headers', 'retry-after');
  return false;
}
