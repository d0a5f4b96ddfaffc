/**
 * Which repository function sent a statement, e.g. `claim.repository.claimReadyTasks`: the
 * name metrics and traces give a statement (issue 17), never its parameters. Read from the
 * stack once per distinct Cypher text and remembered, so a statement costs a map lookup.
 */

/** Distinct texts remembered; past it (texts built from data) a statement is `other`. */
const MAX_NAMES = 2_000;
const names = new Map<string, string>();

/** A stack frame in a file of graph/ other than graph.ts and this file: the repository's. */
const FRAME =
  /at (?:async )?(?:([\w$.<>]+) )?\(?(?:file:\/\/)?[^\s()]*\/graph\/([\w/.-]+?)\.[jt]s:/;

export function statementName(cypher: string): string {
  const known = names.get(cypher);
  if (known) return known;
  if (names.size >= MAX_NAMES) return 'other';
  const name = nameFromStack() ?? 'unnamed';
  names.set(cypher, name);
  return name;
}

function nameFromStack(): string | null {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 20;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const [, fn, file] = m;
    if (file === 'graph' || file === 'statement-name') continue;
    const fnName = fn?.split('.').pop();
    return fnName && fnName !== '<anonymous>' ? `${file}.${fnName}` : file!;
  }
  return null;
}
