import type { EvolutionPass } from '../loop.js';
import { reflectionPass } from './learn.js';
import { lessonLifecyclePass } from './lifecycle.js';

/** The lessons' passes (issue 12): reflect on new runs, then review the lessons' evidence. */
export const LESSON_PASSES: readonly EvolutionPass[] = [reflectionPass, lessonLifecyclePass];
