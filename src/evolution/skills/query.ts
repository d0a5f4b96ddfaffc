import { listSkills } from '../../../graph/skill.repository.js';
import { BadInputError } from '../../domain/errors.js';
import { givenFamily } from '../../domain/family.js';
import { pageSize } from '../../domain/page.js';
import type { Skill, SkillStatus } from '../../domain/skill.js';
import { optionalText } from '../../domain/validate.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';

const STATUSES: readonly SkillStatus[] = ['CANDIDATE', 'ACTIVE', 'RETIRED'];

/**
 * The tenant's skills for the `skills` query: of one family, status or capability when given.
 * Throws BAD_USER_INPUT naming the field, e.g. for a status not CANDIDATE, ACTIVE or RETIRED.
 */
export function skillsOf(
  uow: UnitOfWork,
  tenantId: string,
  filter: { family?: string | null; status?: string | null; capability?: string | null },
  first: number,
): Promise<Skill[]> {
  pageSize(first);
  // Only null or left out lists every status: "" is no status, as an enum argument refuses it.
  const status = filter.status ?? null;
  if (status !== null && !STATUSES.includes(status as SkillStatus)) {
    const got = JSON.stringify(status.slice(0, 40));
    throw new BadInputError(`status must be one of ${STATUSES.join(', ')}, but got ${got}`, {
      field: 'status',
    });
  }
  // As submitTask stores it: "Weekly Report" finds the skills of weekly-report.
  const family = givenFamily(filter.family);
  const capability = optionalText('capability', filter.capability, 200) ?? null;
  return uow.read((tx) =>
    listSkills(tx, tenantId, { family, capability, status: status as SkillStatus | null }, first),
  );
}
