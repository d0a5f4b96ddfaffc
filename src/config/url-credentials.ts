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

/**
 * Whether a URL carries `user:password@`. fetch refuses such a URL, and its refusal repeats
 * the URL whole, password and all, in every failure it logs.
 */
export function hasCredentials(url: string): boolean {
  const parsed = URL.parse(url);
  return parsed !== null && (parsed.username !== '' || parsed.password !== '');
}

/** The refusal of a base URL with credentials: what to do instead (names no secret). */
export function credentialsRefusal(variable: string, keyVariable: string): string {
  return (
    `${variable} must not carry user:password@ (HTTP clients refuse such a URL, so every ` +
    `call failed): put the key in ${keyVariable}`
  );
}
