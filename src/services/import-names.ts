import type { Tx } from '../../graph/cypher.js';
import { translateDriverError } from '../../graph/errors.js';
import { firstNameTaken, type NamedRow } from '../../graph/organisation-import.repository.js';
import { ConflictError } from '../domain/errors.js';
import type { ExportLabel, OrganisationDocument } from '../domain/organisation-export.js';

/*
 * Agent and Capability names are unique per organisation (a constraint). A refusal names the
 * document's node by position and id, never the name itself: the tenancy sweep
 * (test/tenancy.int.test.ts) counts any of another tenant's text in an answer as a leak, and
 * imports that tenant's export. Nor the driver's message: it names the tenant and a node id.
 */

/** Merge matches by id, so it cannot help: the advice says so instead of suggesting it. */
const ADVICE = 'merge matches nodes by id, not by name, so it cannot update that node';

/** The constraint refused a write of nodes of this label; which node, a read finds after. */
export class NameTakenError extends ConflictError {
  constructor(label: ExportLabel) {
    const article = /^[AEIOU]/.test(label) ? 'An' : 'A';
    super(
      `${article} ${label} of the document has a name that another ${label} of this organisation (or of the document) already has; names are unique per organisation: rename it (${ADVICE})`,
      { label },
    );
  }
}

/** Runs the writes of one label, turning the names constraint's refusal into NameTakenError. */
export async function namesUnique(label: ExportLabel, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    // Inside the transaction the driver's error is not translated yet.
    if (!(translateDriverError(err) instanceof ConflictError)) throw err;
    throw new NameTakenError(label);
  }
}

function namedRows(doc: OrganisationDocument): NamedRow[] {
  return doc.nodes.flatMap((n, index) =>
    (n.label === 'Agent' || n.label === 'Capability') && typeof n.properties.name === 'string'
      ? [{ index, label: n.label, name: n.properties.name }]
      : [],
  );
}

function nameConflict(doc: OrganisationDocument, index: number, text: string): ConflictError {
  const node = doc.nodes[index]!;
  const field = `nodes[${index}].properties.name`;
  return new ConflictError(
    `${field} (${node.label} "${node.id}") ${text}; ${node.label} names are unique per organisation`,
    { label: node.label, index, id: node.id, field },
  );
}

/** Throws CONFLICT at the first node of the document named as an earlier one of its label. */
export function refuseSameNames(doc: OrganisationDocument): void {
  const first = new Map<string, number>();
  for (const row of namedRows(doc)) {
    const key = `${row.label}\n${row.name}`;
    const earlier = first.get(key);
    if (earlier === undefined) {
      first.set(key, row.index);
      continue;
    }
    const other = doc.nodes[earlier]!;
    throw nameConflict(
      doc,
      row.index,
      `is the name of nodes[${earlier}] (${other.label} "${other.id}") too: rename one of them`,
    );
  }
}

/**
 * After an import was refused for a taken name (its transaction rolled back): the CONFLICT
 * naming the first node of `doc` (as sent) whose name another node of the organisation has,
 * or `fallback` when none does any more (e.g. renamed meanwhile).
 */
export async function takenNameConflict(
  tx: Tx,
  tenantId: string,
  doc: OrganisationDocument,
  fallback: ConflictError,
): Promise<ConflictError> {
  const except = doc.nodes.map((n) => n.id);
  const index = await firstNameTaken(tx, tenantId, namedRows(doc), except);
  if (index === null) return fallback;
  const label = doc.nodes[index]!.label;
  return nameConflict(
    doc,
    index,
    `is a name another ${label} of this organisation already has: rename it in the document, or rename that ${label} first (${ADVICE})`,
  );
}
