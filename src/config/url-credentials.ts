/**
 * A URL without its credentials, scheme or not, for messages and logs (a model's or an
 * embedder's base URL, an OTLP endpoint, a refused variable): the userinfo (`user:token@`) shows
 * as `***@` and a query or fragment, where a key may ride, as `?***` or `#***`. Everything
 * after the scheme up to the last `@` goes, so a `?`, `#` or `/` inside a password does not
 * stop it (an `@` in a path hides the path before it too: safe, if more than needed).
 */
export function withoutCredentials(url: string): string {
  // The scheme stays, even one missing its colon (https//), to show what was wrong.
  const start = /^[a-z][a-z\d+.-]*:?\/\//i.exec(url)?.[0].length ?? 0;
  const at = url.lastIndexOf('@');
  const shown = at >= start ? `${url.slice(0, start)}***@${url.slice(at + 1)}` : url;
  return shown.replace(/([?#]).*$/s, '$1***');
}
