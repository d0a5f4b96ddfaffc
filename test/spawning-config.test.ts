import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { DEFAULT_EVOLUTION } from '../src/evolution/config.js';

describe('skills and spawning settings', () => {
  it('are on by default with conservative values', () => {
    const { evolution } = loadConfig({});
    expect(evolution.skills).toEqual(DEFAULT_EVOLUTION.skills);
    expect(evolution.spawning).toEqual({
      enabled: true,
      backlog: 5,
      backlogMs: 120_000,
      cooldownMs: 600_000,
      max: 3,
      idleTtlMs: 3_600_000,
    });
  });

  it('read every variable', () => {
    const { evolution } = loadConfig({
      EVOLUTION_SKILL_MIN_TASKS: '2',
      EVOLUTION_SKILL_MIN_APPLIED: '7',
      EVOLUTION_SPAWNING: 'off',
      EVOLUTION_SPAWN_BACKLOG: '10',
      EVOLUTION_SPAWN_BACKLOG_MS: '1000',
      EVOLUTION_SPAWN_COOLDOWN_MS: '2000',
      EVOLUTION_SPAWN_MAX: '0',
      EVOLUTION_SPAWN_IDLE_TTL_MS: '60000',
    });
    expect(evolution.skills).toEqual({ minFamilyTasks: 2, minApplied: 7 });
    expect(evolution.spawning).toEqual({
      enabled: false,
      backlog: 10,
      backlogMs: 1000,
      cooldownMs: 2000,
      max: 0,
      idleTtlMs: 60_000,
    });
  });

  it('name the variable and the value when one is wrong', () => {
    expect(() => loadConfig({ EVOLUTION_SPAWN_MAX: '-1' })).toThrow(
      'EVOLUTION_SPAWN_MAX must be a whole number from 0 to 100, but got "-1"',
    );
    expect(() => loadConfig({ EVOLUTION_SPAWNING: 'yes' })).toThrow(
      'EVOLUTION_SPAWNING must be on or off, but got "yes"',
    );
    expect(() => loadConfig({ EVOLUTION_SPAWN_BACKLOG_MS: '1.5' })).toThrow(
      'EVOLUTION_SPAWN_BACKLOG_MS must be a whole number of ms, at least 0, but got "1.5"',
    );
  });

  // README walk: 0 was taken, and a spawned agent retired on the pass after its first step.
  it('refuse an idle time under a minute, which would retire an agent between two steps', () => {
    for (const ms of ['0', '59999'])
      expect(() => loadConfig({ EVOLUTION_SPAWN_IDLE_TTL_MS: ms })).toThrow(
        `EVOLUTION_SPAWN_IDLE_TTL_MS must be a whole number of ms from 60000 (a minute) to 2592000000 (30 days), but got "${ms}"`,
      );
    const { evolution } = loadConfig({ EVOLUTION_SPAWN_IDLE_TTL_MS: '60000' });
    expect(evolution.spawning.idleTtlMs).toBe(60_000);
  });
});
