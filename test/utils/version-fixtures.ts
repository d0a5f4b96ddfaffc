import { createVersion, versionsOfAgents } from '../../graph/agent-version.repository.js';
import type { Graph } from '../../graph/graph.js';
import { recordTransition } from '../../graph/transition.repository.js';
import { VersionOrigin, VersionStatus } from '../../src/domain/agent-version.js';

/**
 * Agent versions of one tenant for the tenancy matrix (issue 12): the operator's LIVE version 1
 * (createAgent made it) and a CANDIDATE proposed on it whose instructions carry `label`, and the
 * chief's LIVE version 1 as the alternate id.
 */
export async function seedVersions(
  graph: Graph,
  tenantId: string,
  label: string,
  operatorId: string,
  chiefId: string,
): Promise<{ ids: { agentVersion: string }; alternates: { agentVersion: string } }> {
  return graph.write(async (tx) => {
    const live = await versionsOfAgents(tx, tenantId, [operatorId, chiefId], [VersionStatus.LIVE]);
    const operator = live.find((v) => v.agentId === operatorId)!;
    const chief = live.find((v) => v.agentId === chiefId)!;
    const candidate = await createVersion(tx, tenantId, {
      agentId: operatorId,
      systemPrompt: `${label} candidate instructions`,
      model: null,
      temperature: null,
      tools: [],
      lessonBudget: null,
      status: VersionStatus.CANDIDATE,
      origin: VersionOrigin.PLATFORM,
      reason: `${label} proposal`,
      canaryShare: 0.2,
      parentId: operator.id,
    });
    await recordTransition(tx, {
      tenantId,
      subjectLabel: 'AgentVersion',
      subjectId: candidate!.id,
      from: null,
      to: VersionStatus.CANDIDATE,
      reason: `${label} proposal`,
      actor: 'PLATFORM',
    });
    return { ids: { agentVersion: candidate!.id }, alternates: { agentVersion: chief.id } };
  });
}
