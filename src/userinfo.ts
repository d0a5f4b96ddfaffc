/**
 * A URL with its userinfo (`user:token@`) as `***@`, scheme or not, for messages and logs: an
 * OTLP endpoint or a base URL may carry credentials. Anything before an `@` up to a `/` goes.
 */
export function withoutUserinfo(url: string): string {
  return url.replace(/[^/?#\s@]+@/g, '***@');
}
