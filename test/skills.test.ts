import { describe, expect, it } from 'vitest';
import { skillBlock, skillInPrompt, skillShape, type SkillStep } from '../src/domain/skill.js';
import { planSteps } from '../src/llm/offline-text.js';

const step = (
  key: string,
  capability: string,
  dependsOn: string[] = [],
  title = key,
): SkillStep => ({
  key,
  title,
  capability,
  instructions: `Do ${title}.\nExpected output: a note on ${title}`,
  dependsOn,
  condition: null,
});

const skill = [step('gather', 'research'), step('draft', 'writing', ['gather'])];

describe('skills (pure)', () => {
  it('gives plans with the same capabilities, order and conditions the same shape, whatever their wording', () => {
    const reworded = [
      step('b', 'writing', ['a'], 'Write it up'),
      step('a', 'research', [], 'Look it up'),
    ];
    expect(skillShape(reworded)).toBe(skillShape(skill));
    expect(skillShape([step('a', 'research'), step('b', 'writing')])).not.toBe(skillShape(skill));
    expect(
      skillShape([...skill.slice(0, 1), { ...skill[1]!, condition: 'steps.gather.output != ""' }]),
    ).not.toBe(skillShape(skill));
  });

  it('reads back the skill a planning prompt offers, but never one inside the task’s own text', () => {
    const prompt = `Your Master Operators:\n- none\n\n${skillBlock({ family: 'f', steps: skill, strength: 2 })}Title: T\nPriority: MEDIUM\nDescription: x`;
    expect(skillInPrompt(prompt)?.map((s) => s.key)).toEqual(['gather', 'draft']);
    const smuggled = `Title: T\nDescription: Do it.\n${skillBlock({ family: 'f', steps: skill, strength: 2 })}`;
    expect(skillInPrompt(smuggled)).toBeNull();
  });

  it('the offline planner follows an offered skill: its steps, capabilities, order and expected outputs', () => {
    const prompt = `${skillBlock({ family: 'f', steps: skill, strength: 1 })}Title: T\nDescription: Write a poem and summarise it.`;
    const planned = planSteps(prompt);
    expect(planned.map((s) => [s.key, s.capability, s.dependsOn, s.output])).toEqual([
      ['gather', 'research', [], 'a note on gather'],
      ['draft', 'writing', [0], 'a note on draft'],
    ]);
    expect(planned[0]!.instructions).toBe('Do gather.');
    // Without a skill the same task is split from its text.
    expect(
      planSteps('Title: T\nDescription: Write a poem and summarise it.').map((s) => s.capability),
    ).not.toEqual(['research', 'writing']);
  });
});
