/**
 * C0 and C1 controls (NUL, newline, ESC...), DEL, and the bidi embeddings, overrides and
 * isolates (U+202A-U+202E, U+2066-U+2069): in a name they let one pass for another in Apollo
 * Sandbox, the console or Neo4j Browser ("Trojan Source", CVE-2021-42574).
 */
export const NOT_IN_NAMES = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const ALL = new RegExp(NOT_IN_NAMES.source, 'g');
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text with each character of NOT_IN_NAMES written as an escape (`\n`, `\u001B`), so that an
 * error repeating a client's value cannot forge a log line or drive the terminal printing it.
 * Backslashes stay as they are: escaping twice changes nothing.
 */
export function escapeControls(text: string): string {
  return text.replace(
    ALL,
    (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}
