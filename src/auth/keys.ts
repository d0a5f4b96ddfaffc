import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'ap_';

/** A new API key: 32 random bytes, base64url, with a recognisable prefix. */
export function generateApiKey(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** Keys are stored only as this hash; high-entropy keys need no slow hash. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What is shown of a key after creation: enough to tell keys apart, not to use one. */
export function keyPrefix(key: string): string {
  return key.slice(0, PREFIX.length + 6);
}

/** The key from an `Authorization: Bearer <key>` header (or a bare key), or undefined. */
export function bearerKey(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(header);
  return match?.[1];
}
