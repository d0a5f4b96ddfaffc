/** What to do, by the API's extensions.code; the message itself says what went wrong. */
const ADVICE: Record<string, string> = {
  UNAUTHENTICATED: 'Sign in again with a valid API key.',
  FORBIDDEN: 'Your key’s role may not do this: ask an ADMIN for an OPERATOR or ADMIN key.',
  BAD_USER_INPUT: 'Correct the fields named in the message and try again.',
  GRAPHQL_VALIDATION_FAILED: 'The console and the API disagree: reload the page.',
  NOT_FOUND: 'It may have been deleted: reload the list.',
  CONFLICT: 'It clashes with what is there now: reload to see it, then try again.',
  RATE_LIMITED: 'Too many requests from this key: wait a minute and try again.',
  BUDGET_EXCEEDED: 'The budget is spent: an ADMIN can raise it under setBudget.',
  REQUEST_TIMEOUT: 'The API took too long: try again in a moment.',
  SERVICE_UNAVAILABLE: 'The database is not answering: try again in a moment.',
  NETWORK: 'The API cannot be reached: check that it is running.',
};

/**
 * The verbs the API's instructions start with, after a ':', ';' or ',' of the message: "No
 * active CHIEF_OF_STAFF agent to plan the task: create or activate one first".
 */
const VERBS = (
  'activate add ask cancel change choose create follow import pass promote raise read reload ' +
  'remove roll set try unmerge use wait'
).split(' ');
const INSTRUCTION = new RegExp(`^(${VERBS.join('|')})\\b`, 'i');

/** Whether the message goes on to say what to do (its first clause says what went wrong). */
export function saysWhatToDo(message: string): boolean {
  return message
    .split(/[:;,]\s*/)
    .slice(1)
    .some((clause) => INSTRUCTION.test(clause));
}

/** Advice to show after the message: none when the message says what to do already. */
export function adviceFor(code: string, message = ''): string {
  if (saysWhatToDo(message)) return '';
  return ADVICE[code] ?? 'Try again; if it keeps failing, the API’s log says why.';
}
