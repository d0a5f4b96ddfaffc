import {
  moveSkill,
  skillArms,
  skillsToReview,
  storeSkillDelta,
} from '../../../graph/skill.repository.js';
import { recordTransition } from '../../../graph/transition.repository.js';
import { TOPICS } from '../../../subscriptions/topics.js';
import type { Skill, SkillStatus } from '../../domain/skill.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { DEFAULT_EVOLUTION } from '../config.js';
import { decide, efficacyOf, type Efficacy } from '../lessons/stats.js';
import type { EvolutionPass } from '../loop.js';

/** Skills reviewed per tick, at most. */
export const SKILL_REVIEW_PAGE = 50;

/**
 * The skills' lifecycle (issue 12), the lessons' bookkeeping (src/evolution/lessons/stats.ts):
 * a skill's efficacy is the PASS rate of its family's roots planned with it offered against
 * those planned without it; a CANDIDATE that helps (lower bound of delta > 0 after
 * EVOLUTION_SKILL_MIN_APPLIED plans) becomes ACTIVE, one that hurts (upper bound < 0) RETIRED;
 * an ACTIVE one that hurts is RETIRED.
 */
export const skillLifecyclePass: EvolutionPass = {
  name: 'skills: lifecycle',
  async run(ctx, signal) {
    const { minApplied } = (ctx.config ?? DEFAULT_EVOLUTION).skills;
    const skills = await ctx.uow.write((tx) =>
      skillsToReview(tx, ctx.tenantIds, SKILL_REVIEW_PAGE),
    );
    for (const skill of skills) {
      if (signal.aborted) return;
      try {
        await reviewSkill(ctx.uow, skill, minApplied);
      } catch (err) {
        ctx.logger.warn({ err, skillId: skill.id }, 'a skill could not be reviewed');
      }
    }
  },
};

/** A skill's efficacy, measured now. */
export async function skillEfficacy(
  uow: UnitOfWork,
  tenantId: string,
  id: string,
): Promise<Efficacy> {
  const arms = await uow.read((tx) => skillArms(tx, tenantId, id));
  return efficacyOf(
    { n: arms.applied, successes: arms.appliedSuccesses },
    { n: arms.notApplied, successes: arms.notAppliedSuccesses },
  );
}

/** Measures one skill and moves it when the evidence says so; returns its status after. */
export async function reviewSkill(
  uow: UnitOfWork,
  skill: Skill,
  minApplied: number,
): Promise<SkillStatus> {
  const { tenantId, id } = skill;
  if (skill.status === 'RETIRED') return skill.status;
  const efficacy = await skillEfficacy(uow, tenantId, id);
  const decision = decide(skill.status, efficacy, minApplied);
  await uow.write((tx) => storeSkillDelta(tx, tenantId, id, efficacy.delta));
  if (!decision.to) return skill.status;
  const to = decision.to;
  return uow.run(async (tx, emit) => {
    const moved = await moveSkill(tx, tenantId, id, [skill.status], to);
    if (!moved) return skill.status;
    await recordTransition(tx, {
      tenantId,
      subjectLabel: 'Knowledge',
      subjectId: id,
      from: moved.from,
      to,
      reason: decision.reason,
      actor: 'PLATFORM',
    });
    emit({
      topic: TOPICS.evolution,
      payload: {
        tenantId,
        kind: 'SKILL_CHANGED',
        subjectLabel: 'Knowledge',
        subjectId: id,
        summary: `skill for "${skill.family}" ${moved.from} -> ${to}: ${decision.reason}`,
      },
    });
    return to;
  });
}
