import { bestSkillForTask } from '../../../graph/skill.repository.js';
import { skillBlock, type Skill } from '../../domain/skill.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { candidateDraw } from '../lessons/retrieve.js';

/**
 * The skill a Chief of Staff is offered when it plans `taskId` (the best of the task's family,
 * src/domain/skill.ts), with the prompt section that carries it; null when there is none. The
 * caller records it APPLIED_IN the planning run with the plan. With `draw`, a CANDIDATE skill is
 * offered only to the planning runs whose draw falls under the share (as candidate lessons are),
 * so its efficacy has plans without it to compare with; an ACTIVE one always.
 */
export async function offeredSkill(
  uow: UnitOfWork,
  tenantId: string,
  taskId: string,
  draw?: { runId: string; candidateShare: number },
): Promise<{ skill: Skill; block: string } | null> {
  const skill = await uow.read((tx) => bestSkillForTask(tx, tenantId, taskId));
  if (!skill || skill.steps.length === 0) return null;
  if (
    draw &&
    skill.status === 'CANDIDATE' &&
    candidateDraw(draw.runId, skill.id) >= draw.candidateShare
  ) {
    return null;
  }
  return { skill, block: skillBlock(skill) };
}
