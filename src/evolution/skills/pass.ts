import { stableId } from '../../../graph/agent-work.repository.js';
import {
  recordSkill,
  settleSkillDue,
  skillSources,
  type SkillSource,
} from '../../../graph/skill.repository.js';
import { recordTransition } from '../../../graph/transition.repository.js';
import { TOPICS } from '../../../subscriptions/topics.js';
import { orderSteps, skillShape, skillSummary } from '../../domain/skill.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { DEFAULT_EVOLUTION } from '../config.js';
import type { EvolutionPass } from '../loop.js';

/** Successful plans drawn into skills per tick, at most. */
export const SKILL_PAGE = 20;

/**
 * Skills (issue 12, Agent Workflow Memory): a successful multi-step plan of a recurring family
 * (enough finished roots, EVOLUTION_SKILL_MIN_TASKS) becomes a CANDIDATE skill, or strengthens
 * the family's skill of the same step shape. Each root is drawn once, whatever process runs it.
 */
export const skillPass: EvolutionPass = {
  name: 'skills',
  async run(ctx, signal) {
    const { minFamilyTasks } = (ctx.config ?? DEFAULT_EVOLUTION).skills;
    const { sources, settled } = await ctx.uow.read((tx) =>
      skillSources(tx, ctx.tenantIds, minFamilyTasks, SKILL_PAGE),
    );
    // A family whose plan could not be drawn stays due: the next tick tries it again.
    const unsettled = new Set<string>();
    for (const source of sources) {
      if (signal.aborted) return;
      try {
        await learnSkill(ctx.uow, source);
      } catch (err) {
        unsettled.add(`${source.tenantId}\u0000${source.family}`);
        ctx.logger.warn({ err, rootId: source.rootId }, 'a plan could not become a skill');
      }
    }
    const done = settled.filter((d) => !unsettled.has(`${d.tenantId}\u0000${d.family}`));
    await ctx.uow.write((tx) => settleSkillDue(tx, done));
  },
};

/** Draws one successful plan into its family's skill, in one transaction; announced after. */
export async function learnSkill(uow: UnitOfWork, source: SkillSource): Promise<void> {
  const { tenantId, rootId, family } = source;
  const steps = orderSteps(source.steps);
  const shape = skillShape(steps);
  await uow.run(async (tx, emit) => {
    const written = await recordSkill(tx, {
      id: stableId(tenantId, 'skill', family, shape),
      tenantId,
      rootId,
      family,
      shape,
      steps: JSON.stringify(steps),
      capabilities: [...new Set(steps.map((s) => s.capability).filter((c) => c !== null))],
      content: skillSummary(family, steps),
    });
    if (!written) return;
    const { skill, created } = written;
    if (created) {
      await recordTransition(tx, {
        tenantId,
        subjectLabel: 'Knowledge',
        subjectId: skill.id,
        from: null,
        to: 'CANDIDATE',
        reason: `drawn from the successful ${steps.length}-step plan of task ${rootId}`,
        actor: 'PLATFORM',
      });
    }
    emit({
      topic: TOPICS.evolution,
      payload: {
        tenantId,
        kind: 'SKILL_CHANGED',
        subjectLabel: 'Knowledge',
        subjectId: skill.id,
        summary: created
          ? `new skill for "${family}" from task ${rootId}: ${skill.content}`
          : `skill for "${family}" strengthened to ${skill.strength} by task ${rootId}`,
      },
    });
  });
}
