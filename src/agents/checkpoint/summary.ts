import { compareChannelVersions, type Checkpoint } from '@langchain/langgraph-checkpoint';

const START = '__start__';
const BRANCH = 'branch:to:';
const TASKS = '__pregel_tasks';

/**
 * The nodes a checkpoint will run next, as LangGraph's `getState().next` reports them: a node
 * whose trigger channel (`branch:to:<node>`, or `__start__`) holds a value newer than the node
 * has seen, and the targets of pending `Send`s (createAgent sends each tool call to the tools
 * node). Read when the checkpoint is written, so `Run.checkpoints` never decodes blobs.
 */
export function nextNodes(checkpoint: Checkpoint): string[] {
  const next = new Set<string>();
  const values = checkpoint.channel_values ?? {};
  for (const [channel, version] of Object.entries(checkpoint.channel_versions ?? {})) {
    const node =
      channel === START ? START : channel.startsWith(BRANCH) ? channel.slice(BRANCH.length) : null;
    if (node === null || !(channel in values)) continue;
    const seen = checkpoint.versions_seen?.[node]?.[channel];
    if (seen === undefined || compareChannelVersions(version, seen) > 0) next.add(node);
  }
  const sends = (values as Record<string, unknown>)[TASKS];
  if (Array.isArray(sends)) {
    for (const send of sends) {
      const node = (send as { node?: unknown })?.node;
      if (typeof node === 'string') next.add(node);
    }
  }
  return [...next];
}

/** How many messages the checkpoint's `messages` channel holds (0 when it has none). */
export function messageCount(checkpoint: Checkpoint): number {
  const messages = (checkpoint.channel_values as Record<string, unknown> | undefined)?.messages;
  return Array.isArray(messages) ? messages.length : 0;
}
