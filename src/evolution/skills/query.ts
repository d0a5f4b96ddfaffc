import { listSkills } from '../../../graph/skill.repository.js';
import { BadInputError } from '../../domain/errors.js';
import { givenFamily } from '../../domain/family.js';
import { pageSize } from '../../domain/page.js';
import type { Skill, SkillStatus } from '../../domain/skill.js';
import { optionalText } from '../../domain/validate.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';

const STATUSES: readonly SkillStatus[] = ['CANDIDATE', 'ACTIVE', 'RETIRED'];

/** The tenant's skills for the `skills` query: of one family, status or capability when given. */
export function skillsOf(
  uow: UnitOfWork,
  tenantId: string,
  filter: { family?: string | null; status?: string | null; capability?: string | null },
  first: number,
): Promise<Skill[]> {
  pageSize(first);
  if (filter.status && !STATUSES.includes(filter.status as SkillStatus))
    throw new BadInputError(
      `status must be one of ${STATUSES.join(', ')}, but got "${filter.status}"`,
    );
  // As submitTask stores it: "Weekly Report" finds the skills of weekly-report.
  const family = givenFamily(filter.family);
  const capability = optionalText('capability', filter.capability, 200) ?? null;
  return uow.read((tx) =>
    listSkills(
      tx,
      tenantId,
      { family, capability, status: (filter.status as SkillStatus) ?? null },
      first,
    ),
  );
}
