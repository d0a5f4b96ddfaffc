import type { EvolutionPass } from './loop.js';
import { LESSON_PASSES } from './lessons/pass.js';
import { skillLifecyclePass } from './skills/lifecycle.js';
import { skillPass } from './skills/pass.js';
import { spawningPass } from './spawning/pass.js';
import { canaryPass } from './versions/canary.js';

/** The learning loop's passes, in the order they run each tick (issue 12). */
export const EVOLUTION_PASSES: readonly EvolutionPass[] = [
  ...LESSON_PASSES,
  skillPass,
  skillLifecyclePass,
  spawningPass,
  canaryPass,
];
