import { type TestServer } from './server.js';

/*
 * Documents for importOrganisation (import-validation-*.int.test.ts): nodes with every property
 * the API writes, encoded as the export encodes them, and the import call.
 */

export const IMPORT = `mutation($document: JSONObject!, $merge: Boolean) {
  importOrganisation(document: $document, merge: $merge) {
    nodesCreated nodesUpdated relationshipsCreated nodeIds finishedTasksKept
  }
}`;

export interface ImportData {
  importOrganisation: {
    nodesCreated: number;
    nodesUpdated: number;
    relationshipsCreated: number;
    nodeIds: string[];
    finishedTasksKept: number[];
  };
}

export const at = { $datetime: '2024-05-01T10:20:30Z' };
export const int = (n: number) => ({ $int: n });

export function documentOf(nodes: unknown[], relationships: unknown[] = []) {
  return { format: 'agent-platform/organisation', version: 1, nodes, relationships };
}

/** A task with every property the API writes. */
export function task(id: string, props: Record<string, unknown> = {}) {
  return {
    label: 'Task',
    id,
    properties: {
      title: 'Imported',
      priority: 'MEDIUM',
      status: 'PENDING',
      attempts: int(0),
      maxAttempts: int(3),
      orchestrated: false,
      version: int(1),
      createdAt: at,
      updatedAt: at,
      ...props,
    },
  };
}

export async function importInto(server: TestServer, document: unknown, merge = false) {
  return server.gql(IMPORT, { document, merge } as never);
}
