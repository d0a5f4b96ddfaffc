import { causeOf } from '../domain/error-causes.js';

/**
 * The executor's way to say a step waits for people (issue 13), as the engine's contract:
 * thrown out of an executor, it ends the attempt AWAITING_INPUT instead of failing it.
 */

/** A tool call the loop stopped for, by the id the model gave it. */
export interface HeldCall {
  callId: string;
  tool: string;
  /** The arguments the model asked for, as JSON. */
  args: string;
}

/**
 * Thrown out of a step's agent loop when calls need a person's decision (issue 13). The engine
 * ends the attempt AWAITING_INPUT with the calls as PENDING requests; the loop's checkpoint is
 * kept, and the attempt after the decisions resumes from it without asking the model again.
 */
export class AwaitingInputError extends Error {
  constructor(readonly calls: HeldCall[]) {
    super(
      `waits for a person to decide ${calls.length} tool call${calls.length === 1 ? '' : 's'}: ${calls
        .map((c) => c.tool)
        .join(', ')} (resolveToolCall)`,
    );
    this.name = 'AwaitingInputError';
  }
}

/** The AwaitingInputError inside `err` (middleware errors wrap it), if any. */
export function awaitingInputOf(err: unknown): AwaitingInputError | null {
  return causeOf(err, AwaitingInputError);
}
