import type { Tx } from '../../graph/cypher.js';
import { edgeClosingCycle, type TaskEdgeType } from '../../graph/task-cycles.repository.js';
import { oneCycle } from '../domain/cycles.js';
import { BadInputError } from '../domain/errors.js';
import type { OrganisationDocument } from '../domain/organisation-export.js';

/*
 * An import's task edges never close a cycle: a task that depends on itself never becomes
 * READY, and one that is its own ancestor has no root. Refused with BAD_USER_INPUT, the import
 * rolled back.
 */

const TASK_EDGES: readonly TaskEdgeType[] = ['DEPENDS_ON', 'SUBTASK_OF'];

/** A task edge of the document (ids as stored) and its position in the document. */
export interface EdgeToCheck {
  type: TaskEdgeType;
  from: string;
  to: string;
  i: number;
}

/**
 * Refuses a cycle of the document's own task edges (found without the graph), and returns
 * the edges to look up in the graph once written: a cycle through edges the organisation
 * already had passes through a task that existed before the import, on a new edge at one of
 * its ends, so only those. With any, the caller takes the tenant's lock for task edges
 * (graph/task-cycles.repository.ts) before its writes. `original` is the document as sent
 * (ids as the caller knows them), `doc` the one stored, `existing` its nodes that existed.
 */
export function edgesToCheck(
  original: OrganisationDocument,
  doc: OrganisationDocument,
  existing: ReadonlySet<string>,
): EdgeToCheck[] {
  const inDocument = new Set(doc.nodes.map((n) => n.id));
  const existedBefore = (id: string) => existing.has(id) || !inDocument.has(id);
  return TASK_EDGES.flatMap((type) => {
    const edges = doc.relationships.flatMap((r, i) =>
      r.type === type ? [{ type, from: r.from, to: r.to, i }] : [],
    );
    const dependsOn = new Map<string, string[]>();
    for (const e of edges) {
      for (const end of [e.from, e.to]) if (!dependsOn.has(end)) dependsOn.set(end, []);
      dependsOn.get(e.from)!.push(e.to);
    }
    const cycle = oneCycle(dependsOn);
    if (cycle) {
      const to = cycle[1 % cycle.length]!;
      const edge = edges.find((e) => e.from === cycle[0] && e.to === to)!;
      throw closesCycle(original, edge.i, 'the edges of the document');
    }
    return edges.filter((e) => existedBefore(e.from) || existedBefore(e.to));
  });
}

/** Refuses the first of `edges`, written, that closes a cycle in the graph. */
export async function refuseGraphCycles(
  tx: Tx,
  tenantId: string,
  original: OrganisationDocument,
  edges: readonly EdgeToCheck[],
): Promise<void> {
  for (const type of TASK_EDGES) {
    const ofType = edges.filter((e) => e.type === type);
    const found = await edgeClosingCycle(tx, tenantId, type, ofType);
    if (found !== null) {
      throw closesCycle(original, ofType[found]!.i, 'the edges this organisation has');
    }
  }
}

function closesCycle(original: OrganisationDocument, i: number, through: string) {
  const { type, from, to } = original.relationships[i]!;
  const what = type === 'DEPENDS_ON' ? 'depend on itself' : 'be its own ancestor';
  return new BadInputError(
    `relationships[${i}] (${type} from Task "${from}" to Task "${to}") closes a cycle with ${through}: a task cannot ${what}, directly or through others; remove one edge of the cycle`,
    { field: `relationships[${i}]` },
  );
}
