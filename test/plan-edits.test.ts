import { describe, expect, it } from 'vitest';
import { AppError } from '../src/domain/errors.js';
import { TaskPriority } from '../src/domain/task.js';
import { validatePlan } from '../src/agents/plan.js';
import { editPlan, type PlanEdits, type PlanStepState } from '../src/services/plan-edits.js';

const step = (key: string, dependsOn: string[] = []): PlanStepState => ({
  id: `id-${key}`,
  key,
  title: `Step ${key}`,
  description: `Do ${key}`,
  priority: TaskPriority.MEDIUM,
  condition: null,
  capabilities: ['research'],
  dependsOn,
});
const plan = [step('a'), step('b', ['a']), step('c', ['b'])];

/** The refusal's message and details, or a failure when the edits were accepted. */
function refusal(edits: PlanEdits): { message: string; code: string; details: unknown } {
  try {
    editPlan(plan, edits, TaskPriority.HIGH);
  } catch (err) {
    const e = err as AppError;
    return { message: e.message, code: e.code, details: e.details };
  }
  throw new Error('the edits were accepted');
}

describe('editing a plan before approving it', () => {
  it('changes, adds and removes steps, and marks what changed', () => {
    const edited = editPlan(
      plan,
      {
        change: [{ key: 'c', title: 'Write it up', dependsOn: ['a', 'd'] }],
        add: [
          { key: 'd', title: 'Check the figures', capabilities: ['analysis'], dependsOn: ['a'] },
        ],
        remove: ['b'],
      },
      TaskPriority.HIGH,
    );
    expect(edited.removed.map((s) => s.key)).toEqual(['b']);
    expect(edited.steps.map((s) => [s.key, s.changed, s.dependsOn])).toEqual([
      ['a', false, []],
      ['c', true, ['a', 'd']],
      ['d', true, ['a']],
    ]);
    const d = edited.steps.find((s) => s.key === 'd')!;
    expect(d).toMatchObject({ id: null, priority: TaskPriority.HIGH, capabilities: ['analysis'] });
    expect(edited.steps.find((s) => s.key === 'c')!.title).toBe('Write it up');
  });

  it('keeps the plan as it is without edits', () => {
    const edited = editPlan(plan, null, TaskPriority.HIGH);
    expect(edited.steps.every((s) => !s.changed)).toBe(true);
    expect(edited.removed).toEqual([]);
  });

  it('refuses a dependency on a removed step, naming the step and the field', () => {
    expect(refusal({ remove: ['a'] })).toEqual({
      code: 'BAD_USER_INPUT',
      message:
        'edits: step "b" (dependsOn): step "b" depends on "a", which is not a step of the plan',
      details: { step: 'b', field: 'dependsOn' },
    });
  });

  it('refuses a cycle made by the edits, naming the edit', () => {
    const r = refusal({ change: [{ key: 'a', dependsOn: ['c'] }] });
    expect(r.message).toMatch(
      /^edits\.change\[0\]\.dependsOn: steps a, c, b depend on each other in a cycle/,
    );
  });

  // A step on itself was reported as "steps a, b, c depend on each other in a cycle": b and c
  // only wait for a, so the message sent the person looking for edges that are not there.
  it('names only the steps of the cycle, not those that merely wait for it', () => {
    expect(refusal({ change: [{ key: 'a', dependsOn: ['a'] }] }).message).toBe(
      'edits.change[0].dependsOn: step "a" depends on itself',
    );
    expect(refusal({ change: [{ key: 'b', dependsOn: ['c'] }] }).message).toMatch(
      /^edits\.change\[0\]\.dependsOn: steps b, c depend on each other in a cycle/,
    );
  });

  it('refuses unknown steps, duplicate and reserved keys, and invalid conditions', () => {
    expect(refusal({ change: [{ key: 'x', title: 'y' }] }).message).toBe(
      'edits.change[0].key: the plan has no step "x" (its steps: a, b, c)',
    );
    expect(refusal({ remove: ['x'] }).message).toMatch(
      /^edits\.remove\[0\]: the plan has no step "x"/,
    );
    expect(refusal({ add: [{ key: 'a', title: 'again' }] }).message).toBe(
      'edits.add[0].key: the plan already has a step "a"',
    );
    expect(refusal({ add: [{ key: 'synthesis', title: 'mine' }] }).message).toMatch(
      /^edits\.add\[0\]\.key: "synthesis" is not a usable key/,
    );
    expect(
      refusal({ add: [{ key: 'e', title: 'e', condition: 'steps.a.output ==' }] }).message,
    ).toMatch(/^edits\.add\[0\]\.condition: the condition of step "e" is not valid/);
    expect(refusal({ change: [{ key: 'a', title: '  ' }] }).message).toBe(
      'edits.change[0].title must be 1 to 200 characters, but got 0',
    );
  });

  // The engine gives a condition only its step's dependencies: one it no longer depends on
  // reads null, and the step was skipped as 'condition was false' on a check nobody made.
  it('refuses a condition reading a step it does not depend on, as removeTaskDependency does', () => {
    const gated = [
      step('a'),
      step('b', ['a']),
      { ...step('c', ['a', 'b']), condition: 'steps.b.output.ok' },
    ];
    expect(() =>
      editPlan(gated, { change: [{ key: 'c', dependsOn: ['a'] }] }, TaskPriority.HIGH),
    ).toThrow(
      'edits.change[0].condition: the condition of step "c" reads a step it does not depend on: condition refers to step "b", which is not one of this task\'s dependencies (their keys: a)',
    );
    expect(
      validatePlan({
        steps: gated.map((s) => ({
          key: s.key,
          title: s.title,
          instructions: 'x',
          capability: 'research',
          dependsOn: s.key === 'c' ? ['a'] : s.dependsOn,
          condition: s.condition,
          output: 'x',
        })),
      }),
    ).toMatch(/^the condition of step "c" reads a step it does not depend on/);
  });

  it('refuses a plan left without steps or with more than a model may write', () => {
    expect(refusal({ remove: ['a', 'b', 'c'] }).message).toBe(
      'edits: a plan has 1 to 20 steps, but the edited plan has 0',
    );
    const many = Array.from({ length: 18 }, (_, i) => ({ key: `s${i}`, title: `s${i}` }));
    expect(refusal({ add: many }).message).toBe(
      'edits: a plan has 1 to 20 steps, but the edited plan has 21',
    );
  });
});
