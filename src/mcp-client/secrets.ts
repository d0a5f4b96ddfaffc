import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BadInputError } from '../domain/errors.js';
import { HeaderSource, type ToolServer, type ToolServerHeader } from '../domain/tool-server.js';
import type { McpClientConfig } from './config.js';

/** Variables a header may be read from: a prefix of their own, so no tenant reads NEO4J_PASSWORD. */
export const HEADER_ENV_PREFIX = 'MCP_HEADER_';

/** Seals a JSON value with AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>`, base64url each. */
export function seal(key: Buffer, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body].map((p) => p.toString('base64url')).join('.');
}

/** Opens what seal() made; throws when the key is another or the text was changed. */
export function unseal<T>(key: Buffer, sealed: string): T {
  const [v, iv, tag, body] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
  return JSON.parse(text.toString('utf8')) as T;
}

/** The header values a server's session sends: unsealed, or read from the environment. */
export function resolveHeaders(
  server: Pick<ToolServer, 'headers' | 'headersSealed'>,
  cfg: Pick<McpClientConfig, 'secretKey'>,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const sealed: Record<string, string> =
    server.headersSealed && cfg.secretKey ? unseal(cfg.secretKey, server.headersSealed) : {};
  const out: Record<string, string> = {};
  for (const h of server.headers) {
    const value = h.source === HeaderSource.ENV ? env[h.envVar ?? ''] : sealed[h.name];
    if (value === undefined)
      throw new Error(
        h.source === HeaderSource.ENV
          ? `header ${h.name}: the variable ${h.envVar} is not set in this process`
          : `header ${h.name}: its sealed value cannot be opened (is MCP_SECRET_KEY the one it was stored with?)`,
      );
    if (!sendable(value))
      throw new Error(
        h.source === HeaderSource.ENV
          ? `header ${h.name}: the variable ${h.envVar} holds a value HTTP cannot send (${UNSENDABLE})`
          : // Sealed before sealHeaders refused such values.
            `header ${h.name}: its stored value is one HTTP cannot send (${UNSENDABLE}); set the header again with one line of visible characters`,
      );
    out[h.name] = value;
  }
  return out;
}

/** Shorter values ("1", "on") would garble the text and hide no secret. */
const HIDDEN_MIN = 4;

/**
 * `text` (an error of the server, to be stored or shown) with the server's own header values,
 * sealed or from the environment, as [redacted]: a server may repeat the headers it got, and
 * every key that reads toolServers or a run reads its errors. The credential after a scheme
 * ("Bearer <token>") is hidden on its own too. Values that cannot be read are skipped.
 */
export function withoutHeaderValues(
  text: string,
  server: Pick<ToolServer, 'headers' | 'headersSealed'>,
  cfg: Pick<McpClientConfig, 'secretKey'>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  let sealed: Record<string, string> = {};
  try {
    if (server.headersSealed && cfg.secretKey) sealed = unseal(cfg.secretKey, server.headersSealed);
  } catch {
    // Another key: the server was never sent these values.
  }
  const values = new Set<string>();
  for (const h of server.headers) {
    const value = (h.source === HeaderSource.ENV ? env[h.envVar ?? ''] : sealed[h.name])?.trim();
    if (!value) continue;
    values.add(value);
    values.add(value.split(/\s+/).pop()!);
  }
  const hidden = [...values].filter((v) => v.length >= HIDDEN_MIN);
  // Longest first: a value that holds another is hidden whole.
  for (const v of hidden.sort((a, b) => b.length - a.length))
    text = text.split(v).join('[redacted]');
  return text;
}

const UNSENDABLE = 'a line break or NUL inside it, or a character past U+00FF';

/**
 * Whether fetch can send `value` as a header: it trims spaces and line breaks around it, and
 * refuses the rest of UNSENDABLE, quoting the value (a secret) in its error.
 */
function sendable(value: string): boolean {
  return !/[\r\n\0]|[^\u0000-\u00ff]/.test(value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, ''));
}

/** A header as an ADMIN gives it: exactly one of a value (sealed) or a variable to read. */
export interface HeaderInput {
  name: string;
  value?: string | null;
  fromEnv?: string | null;
}

const HEADER_NAME = /^[A-Za-z0-9-]{1,100}$/;
/** Headers the HTTP client sets to frame the request: given, every request fails or goes astray. */
const CLIENT_HEADERS = new Set([
  'connection',
  'content-length',
  'expect',
  'host',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/** Servers refuse header blocks past 8-16 kB (Node: 16 kB) with a bare 431. */
const HEADER_VALUE_MAX = 8_192;

/**
 * Checks headers and seals their values with `key`: what a ToolServer or a remote agent keeps
 * (names and sources in the clear, values only sealed). BAD_USER_INPUT says what to fix.
 */
export function sealHeaders(
  input: HeaderInput[],
  key: Buffer | null,
): { headers: ToolServerHeader[]; headersSealed: string | null } {
  const headers: ToolServerHeader[] = [];
  const values: Record<string, string> = {};
  const seen = new Set<string>();
  for (const h of input) {
    if (!HEADER_NAME.test(h.name))
      throw new BadInputError(
        `header name ${JSON.stringify(h.name)} must be letters, digits and "-"`,
      );
    const lower = h.name.toLowerCase();
    if (CLIENT_HEADERS.has(lower))
      throw new BadInputError(
        `header ${h.name}: it is set by the HTTP client for each request; leave it out`,
      );
    if (seen.has(lower))
      throw new BadInputError(
        `header ${h.name}: given twice (names are case-insensitive); give each header once`,
      );
    seen.add(lower);
    if ((h.value == null) === (h.fromEnv == null))
      throw new BadInputError(`header ${h.name}: give exactly one of value or fromEnv`);
    if (h.fromEnv != null) {
      if (!h.fromEnv.startsWith(HEADER_ENV_PREFIX) || !/^[A-Z0-9_]+$/.test(h.fromEnv))
        throw new BadInputError(
          `header ${h.name}: fromEnv must name a variable that starts with ${HEADER_ENV_PREFIX} (e.g. ${HEADER_ENV_PREFIX}GITHUB_TOKEN), set where the platform runs`,
        );
      headers.push({ name: h.name, source: HeaderSource.ENV, envVar: h.fromEnv });
    } else {
      if (h.value!.length > HEADER_VALUE_MAX)
        throw new BadInputError(
          `header ${h.name}: its value must be at most ${HEADER_VALUE_MAX} characters, but got ${h.value!.length}`,
        );
      if (!sendable(h.value!))
        throw new BadInputError(
          `header ${h.name}: its value must be one line of visible characters, without ${UNSENDABLE}`,
        );
      headers.push({ name: h.name, source: HeaderSource.ENCRYPTED, envVar: null });
      values[h.name] = h.value!;
    }
  }
  if (Object.keys(values).length > 0 && !key)
    throw new BadInputError(
      `header values are stored encrypted, and MCP_SECRET_KEY is not set here; set it (openssl rand -base64 32) or use fromEnv with a ${HEADER_ENV_PREFIX} variable`,
    );
  return {
    headers,
    headersSealed: Object.keys(values).length > 0 ? seal(key!, values) : null,
  };
}
