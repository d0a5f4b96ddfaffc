/**
 * A URL without its credentials, scheme or not, for messages and logs (a model's or an
 * embedder's base URL, an OTLP endpoint, a refused variable): the userinfo (`user:token@`) shows
 * as `***@` and a query or fragment, where a key may ride, as `?***` or `#***`. Everything
 * before an `@` back to a `/` goes, so a `?` or `#` inside a password does not stop it.
 */
export function withoutCredentials(url: string): string {
  return url.replace(/[^/\s@]+@/g, '***@').replace(/([?#]).*$/s, '$1***');
}
