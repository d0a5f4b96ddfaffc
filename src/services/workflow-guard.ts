import type { Tx } from '../../graph/cypher.js';
import { engineStateProblem } from '../../graph/engine-state.repository.js';
import { BadInputError } from '../domain/errors.js';

/**
 * Refuses (BAD_USER_INPUT, the write rolled back) a change by hand to the tasks `ids` that would
 * leave a workflow the engine cannot run: a step READY before its dependencies ended, running
 * without a lease, or a parent waiting for a task the engine never runs. The rules are the
 * engine's own, which an import is held to too (graph/engine-state.repository.ts). `hint`
 * says what to do instead.
 */
export async function refuseUnrunnable(
  tx: Tx,
  tenantId: string,
  ids: string[],
  operation: string,
  hint: string,
): Promise<void> {
  const found = await engineStateProblem(tx, tenantId, ids);
  if (!found) return;
  throw new BadInputError(
    `${operation} would leave a workflow the engine cannot run: Task "${found.id}" ${found.problem}; ${hint}`,
    { id: found.id },
  );
}
