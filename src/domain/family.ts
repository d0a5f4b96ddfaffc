import { BadInputError } from './errors.js';

/*
 * A task's family (issue 12): what kind of task it is, so that lessons and skills learned on
 * one task reach the next of its kind. Given by the user, or derived from the root's title.
 */

/** How many significant words of a title name its family. */
export const FAMILY_WORDS = 4;
/** The longest family a user may give. */
export const FAMILY_MAX = 80;

/** Words that say nothing about what kind of task it is. */
const STOP_WORDS = new Set(
  (
    'a an the and or but of to in on at by for from with without into onto about over under ' +
    'as is are be been was were it its this that these those my our your their his her ' +
    'me us we you they i he she them please can could would should will shall may might must ' +
    'do does did done get got make new next last some any all each every per via than then ' +
    'up down out off so if when what which who whom how why where vs'
  ).split(' '),
);

/**
 * The family of a task with this title: lower case; quoted text, ids, numbers and any word
 * holding a digit left out; stop words dropped; the first four significant words joined by
 * '-'. "Write the Q3 report for 'ACME'" -> "write-report". Null when no word is left.
 */
export function familyOf(title: string): string | null {
  const words = title
    .toLowerCase()
    .replace(/"[^"]*"|“[^”]*”|‘[^’]*’|`[^`]*`/g, ' ')
    // Single quotes only around words, so that "don't" keeps its words.
    .replace(/(^|[\s(])'[^'\n]*'(?=$|[\s).,;:!?])/g, '$1 ')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 1 && !/\p{N}/u.test(w) && !STOP_WORDS.has(w));
  return words.length ? words.slice(0, FAMILY_WORDS).join('-') : null;
}

/**
 * A family given by a person, normalised to the same form (lower case words joined by '-');
 * null/undefined/blank stay absent. Throws BAD_USER_INPUT when it is too long or has no letter
 * or digit.
 */
export function givenFamily(value: string | null | undefined): string | null {
  if (value === undefined || value === null || value.trim() === '') return null;
  if (value.length > FAMILY_MAX) {
    throw new BadInputError(
      `family must be at most ${FAMILY_MAX} characters, but got ${value.length}`,
      { field: 'family' },
    );
  }
  const slug = value
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .join('-');
  if (!slug) {
    throw new BadInputError(
      `family must hold letters or digits (e.g. "weekly-report"), but got "${value}"`,
      { field: 'family' },
    );
  }
  return slug;
}
