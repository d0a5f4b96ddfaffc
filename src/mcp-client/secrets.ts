import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HeaderSource, type ToolServer } from '../domain/tool-server.js';
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
    out[h.name] = value;
  }
  return out;
}
