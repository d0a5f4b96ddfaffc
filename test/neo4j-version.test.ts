import { describe, expect, it } from 'vitest';
import { versionProblem } from '../graph/migrate.js';

/**
 * NEO4J_URI may name any server: one whose Cypher lacks what the statements use (OPTIONAL
 * CALL, 5.24) failed at its first migration with a syntax error that named no version. Now
 * migrate() refuses it first, saying what to do, and says when a server is older than the one
 * the platform is tested on.
 */
describe('the Neo4j versions migrate() accepts', () => {
  it('refuses a server older than 5.24, saying what to do', () => {
    for (const agent of ['Neo4j/5.12.0', 'Neo4j/5.23.0', 'Neo4j/4.4.30']) {
      const problem = versionProblem(agent);
      expect(problem?.refuse, agent).toBe(true);
      expect(problem?.message).toContain(`${agent} is too old`);
      expect(problem?.message).toContain('unset NEO4J_URI');
    }
  });

  it('accepts 5.24 and 5.25 with a word, and the tested and newer ones silently', () => {
    expect(versionProblem('Neo4j/5.24.2')).toEqual({
      refuse: false,
      message: 'Neo4j/5.24.2 is older than Neo4j 5.26, which this platform is tested on',
    });
    expect(versionProblem('Neo4j/5.25.1')?.refuse).toBe(false);
    for (const agent of ['Neo4j/5.26.0', 'Neo4j/5.26.12', 'Neo4j/2025.01.0', 'Neo4j/2026.10.0']) {
      expect(versionProblem(agent), agent).toBeNull();
    }
  });

  it('lets through a server that names no version', () => {
    expect(versionProblem('unknown')).toBeNull();
  });
});
