import { describe, expect, it } from 'vitest';
import {
  checkCondition,
  ConditionError,
  evaluateCondition,
  parseCondition,
  pathsOf,
} from '../src/engine/conditions.js';

const scope = {
  steps: {
    research: { status: 'COMPLETED', output: { confidence: 0.8, items: [10, 20, 30] } },
    check: { output: { approved: false }, result: 'this is urgent!' },
    count: { output: { items: 5, empty: [], zero: 0, blank: '', tags: ['a', 'b'] } },
    lang: { output: { code: 'fr' } },
    'my step': { output: { items: ['first', { deep: 'yes' }] } },
  },
};

const run = (text: string, s: Record<string, unknown> = scope) =>
  evaluateCondition(parseCondition(text), s);

function errorOf(text: string): ConditionError {
  try {
    parseCondition(text);
  } catch (error) {
    if (error instanceof ConditionError) return error;
    throw error;
  }
  throw new Error(`expected "${text}" to be rejected`);
}

describe('conditions: the examples', () => {
  it.each([
    'steps.research.status == "COMPLETED" && steps.research.output.confidence >= 0.7',
    '!(steps.check.output.approved) || steps.check.result contains "urgent"',
    'steps.count.output.items > 3 and steps.lang.output.code in ["en", "fr"]',
  ])('evaluates %s to true', (text) => {
    expect(run(text)).toBe(true);
  });
});

describe('conditions: operators', () => {
  it.each([
    ['1 == 1', true],
    ['1 != 1', false],
    ['"a" != "b"', true],
    ['1 < 2', true],
    ['2 <= 2', true],
    ['3 > 2', true],
    ['2 >= 3', false],
    ['"abc" < "abd"', true],
    ['true || false', true],
    ['true or false', true],
    ['true && false', false],
    ['true and true', true],
    ['!true', false],
    ['not false', true],
    ['!!1', true],
    ['- 5 < 0', true],
    ['-2.5 < -2', true],
    ['--3 == 3', true],
    ['-"x" == null', true],
  ] as const)('%s → %s', (text, expected) => {
    expect(run(text as string)).toBe(expected);
  });

  it.each([
    ['true || false && false', true], // && binds tighter than ||
    ['(true || false) && false', false],
    ['1 == 1 && 2 == 2', true],
    ['1 < 2 == true', true], // comparison binds tighter than equality
    ['"a" in ["a"] == true', true], // in binds tighter than ==
    ['!false == true', true], // ! binds tighter than ==
    ['not 1 in [1]', false], // (not 1) in [1]
    ['!(1 in [1])', false],
    ['false && x.y || true', true],
  ] as const)('precedence: %s → %s', (text, expected) => {
    expect(run(text)).toBe(expected);
  });

  it('lets && and || short-circuit on missing data', () => {
    expect(run('steps.nope && steps.nope.a.b == 1')).toBe(false);
    expect(run('steps.research || steps.nope.x')).toBe(true);
  });
});

describe('conditions: paths', () => {
  it('reads through objects and arrays with dots and brackets', () => {
    expect(run('steps.research.output.items[1] == 20')).toBe(true);
    expect(run('steps["research"][\'output\']["confidence"] == 0.8')).toBe(true);
    expect(run('steps["my step"].output.items[0] == "first"')).toBe(true);
    expect(run('steps["my step"].output.items[1].deep == "yes"')).toBe(true);
    expect(run('steps.research.output.items.length == 3')).toBe(true);
  });

  it('allows keywords as property names after a dot', () => {
    expect(run('x.in.not == 1', { x: { in: { not: 1 } } })).toBe(true);
  });

  it('reads missing paths as null without throwing', () => {
    expect(run('steps.missing == null')).toBe(true);
    expect(run('steps.missing.output.deep.deeper == null')).toBe(true);
    expect(run('steps.research.output.items[7] == null')).toBe(true);
    expect(run('steps.research.status.length == null')).toBe(true); // strings have no properties
    expect(run('nothing')).toBe(false);
    expect(run('steps.missing > 1')).toBe(false);
    expect(run('a.b', {})).toBe(false);
  });

  it('lists every path referenced, once each', () => {
    const ast = parseCondition(
      'steps.research.status == "X" && (steps["my step"].output.items[0] in [steps.a.b]) || steps.research.status',
    );
    expect(pathsOf(ast)).toEqual([
      ['steps', 'research', 'status'],
      ['steps', 'my step', 'output', 'items', '0'],
      ['steps', 'a', 'b'],
    ]);
    expect(pathsOf(parseCondition('1 == 1'))).toEqual([]);
  });
});

describe('conditions: literals and strings', () => {
  it.each([
    ['"it\\"s" == \'it"s\'', true],
    ["'it\\'s' == \"it's\"", true],
    ['"a\\\\b" contains "\\\\"', true],
    ['"line\\nbreak" contains "\\n"', true],
    ['"" == \'\'', true],
    ['null == null', true],
    ['1.50 == 1.5', true],
    ['[] == []', false], // lists compare by reference
  ] as const)('%s → %s', (text, expected) => {
    expect(run(text)).toBe(expected);
  });

  it('decodes escapes into the string value', () => {
    expect(run('x == "a\\"b\\\'c\\\\d\\ne"', { x: 'a"b\'c\\d\ne' })).toBe(true);
  });

  it('rejects unknown escapes with their position', () => {
    expect(errorOf('x == "a\\tb"')).toMatchObject({ position: 7 });
    expect(errorOf('x == "a\\tb"').message).toContain('Unknown escape "\\t" at position 7');
  });
});

describe('conditions: in and contains', () => {
  it.each([
    ['"b" in ["a", "b"]', true],
    ['"c" in ["a", "b"]', false],
    ['"ell" in "hello"', true],
    ['"xyz" in "hello"', false],
    ['1 in "1"', false],
    ['1 in null', false],
    ['"hello" contains "ell"', true],
    ['["a", 2] contains 2', true],
    ['["a", 2] contains "2"', false],
    ['steps.count.output.tags contains "b"', true],
    ['steps.count.output.items contains 5', false],
    ['null contains null', false],
  ] as const)('%s → %s', (text, expected) => {
    expect(run(text)).toBe(expected);
  });
});

describe('conditions: truthiness and strict equality', () => {
  it.each([
    ['steps.count.output.zero', false],
    ['steps.count.output.blank', false],
    ['steps.count.output.empty', false],
    ['steps.check.output.approved', false],
    ['null', false],
    ['steps.count.output.tags', true],
    ['steps.lang.output', true],
    ['"0"', true],
    ['-1', true],
  ] as const)('%s is %s', (text, expected) => {
    expect(run(text)).toBe(expected);
  });

  it.each([
    ['1 == "1"', false],
    ['0 == false', false],
    ['null == false', false],
    ['"" == 0', false],
    ['steps.lang.output == steps.lang.output', true], // same reference
    ['steps.lang.output == steps.research.output', false],
    ['1 < "2"', false],
    ['"1" >= 1', false],
    ['null < 1', false],
    ['true > false', false],
  ] as const)('%s → %s', (text, expected) => {
    expect(run(text)).toBe(expected);
  });
});

describe('conditions: limits', () => {
  it('accepts 1,000 characters and rejects 1,001', () => {
    expect(checkCondition(`"${'a'.repeat(998)}"`)).toBeNull();
    const error = errorOf(`"${'a'.repeat(999)}"`);
    expect(error.position).toBe(1000);
    expect(error.message).toBe(
      'Condition is too long at position 1000: at most 1000 characters, but got 1001',
    );
  });

  it('accepts 200 tokens and rejects 201', () => {
    const of = (n: number) => Array.from({ length: n }, () => '1').join('||'); // 2n - 1 tokens
    expect(checkCondition(`${of(100)} ||`)).toMatch(/^Unexpected end of input/); // exactly 200
    const error = errorOf(`${of(100)} || 1`);
    expect(error.message).toMatch(/^Too many tokens at position \d+: at most 200$/);
    expect(error.position).toBe(`${of(100)} || `.length);
  });

  it('accepts 32 levels of nesting and rejects 33', () => {
    expect(run(`${'('.repeat(32)}true${')'.repeat(32)}`)).toBe(true);
    expect(errorOf(`${'('.repeat(33)}1${')'.repeat(33)}`)).toMatchObject({
      message: 'Too deeply nested "(" at position 32: at most 32 levels',
      position: 32,
    });
    expect(checkCondition(`${'!'.repeat(33)}x`)).toMatch(/at most 32 levels/);
    expect(checkCondition(`${'['.repeat(33)}${']'.repeat(33)}`)).toMatch(/at most 32 levels/);
    expect(run(`${'!'.repeat(32)}1`)).toBe(true);
  });

  it('rejects very long and very deep input cleanly', () => {
    expect(checkCondition('('.repeat(100_000))).toMatch(/^Condition is too long/);
    expect(checkCondition('('.repeat(150))).toMatch(/at most 32 levels/);
    expect(checkCondition('a.'.repeat(150) + 'a')).toMatch(/^Too many tokens/);
  });
});

describe('conditions: syntax errors name what and where', () => {
  it.each([
    ['steps.a == 1 && && x', 'Unexpected "&&" at position 16: expected a value', 16],
    ['steps.research.status === "x"', 'Unknown operator "===" at position 22', 22],
    ['a = 1', 'Unknown operator "=" at position 2', 2],
    ['a & b', 'Unknown operator "&" at position 2', 2],
    [
      '(a == 1',
      'Unexpected end of input at position 7: expected ")" to close "(" at position 0',
      7,
    ],
    ['a == 1)', 'Unexpected ")" at position 6: expected an operator or end of input', 6],
    ['x == "open', 'Unterminated string starting at position 5: missing closing "', 5],
    ["x == 'open", "Unterminated string starting at position 5: missing closing '", 5],
    ['[1, 2', 'Unexpected end of input at position 5: expected "]" to close "[" at position 0', 5],
    ['a[b]', 'Unexpected "b" at position 2: expected a string or number inside [ ]', 2],
    ['a.', 'Unexpected end of input at position 2: expected a property name after "."', 2],
    ['a # b', 'Unexpected character "#" at position 2', 2],
    ['', 'Unexpected end of input at position 0: expected a value', 0],
    ['1 - 2', 'Unexpected "-" at position 2: expected an operator or end of input', 2],
    ['steps.x - 1', 'Unexpected "-" at position 8: expected an operator or end of input', 8],
    // The planner's keys are step-1, step-2...: the dot form reads as a subtraction.
    [
      'steps.step-1.output.score > 0.5',
      'Unexpected "-" at position 10: expected an operator or end of input; write steps["step-1"] for a key with "-"',
      10,
    ],
    [
      '[steps.a.my-step-2]',
      'Unexpected "-" at position 11: expected an operator or end of input; write steps.a["my-step-2"] for a key with "-"',
      11,
    ],
    ['a and', 'Unexpected end of input at position 5: expected a value', 5],
    ['a == and', 'Unexpected "and" at position 5: expected a value', 5],
  ] as const)('%s', (text, message, position) => {
    const error = errorOf(text);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConditionError');
    expect(error.message).toBe(message);
    expect(error.position).toBe(position);
    expect(checkCondition(text)).toBe(message);
  });

  it('splits "!" off an operator run', () => {
    expect(run('true &&!false')).toBe(true);
    expect(run('1 ==!0')).toBe(false);
  });

  it('checkCondition returns null for valid conditions', () => {
    expect(checkCondition('steps.a.status == "DONE"')).toBeNull();
    expect(checkCondition('steps["step-1"].output.score > 0.5')).toBeNull();
  });
});

describe('conditions: hostile input', () => {
  it('has no function calls', () => {
    expect(errorOf('constructor.constructor("return process")()')).toMatchObject({
      message: 'Unexpected "(" at position 23: function calls are not supported',
      position: 23,
    });
    expect(checkCondition('steps.x.toString()')).toMatch(/function calls are not supported/);
    expect(checkCondition('(steps.x)("a")')).toMatch(/expected an operator/);
    expect(checkCondition('a toString b')).toBe(
      'Unexpected "toString" at position 2: expected an operator or end of input',
    );
    expect(run('toString == null && valueOf == null')).toBe(true);
  });

  it('reads prototype chains and inherited members as null', () => {
    expect(run('__proto__ == null')).toBe(true);
    expect(run('steps.__proto__ == null')).toBe(true);
    expect(run('steps["__proto__"] == null')).toBe(true);
    expect(run('steps.research.constructor == null')).toBe(true);
    expect(run('constructor.constructor == null')).toBe(true);
    expect(run('steps.research.output.items.constructor.prototype == null')).toBe(true);
    expect(run('steps.hasOwnProperty == null')).toBe(true);
    expect(run('steps.research.status.length == null')).toBe(true);
    expect(run('steps.research.output.items.map == null')).toBe(true);
  });

  it('leaves Object.prototype untouched', () => {
    expect(run('steps.x.__proto__.polluted == null')).toBe(true);
    expect(run('steps.x.__proto__.polluted')).toBe(false);
    expect(run('__proto__.polluted == null && !steps.__proto__.toString')).toBe(true);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('ignores own __proto__ keys from JSON and never runs getters', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    expect(run('x.__proto__.polluted == null', { x: parsed })).toBe(true);
    let called = false;
    const withGetter = {
      get secret() {
        called = true;
        return 1;
      },
    };
    expect(run('x.secret == null', { x: withGetter })).toBe(true);
    expect(called).toBe(false);
  });

  it('does not read into class instances or functions', () => {
    class Box {
      value = 1;
    }
    expect(run('x.value == null', { x: new Box() })).toBe(true);
    expect(run('x == null', { x: () => 1 })).toBe(true);
    expect(run('x.length == null', { x: new Map([['length', 1]]) })).toBe(true);
  });

  it('works with a null-prototype scope', () => {
    const s = Object.assign(Object.create(null) as Record<string, unknown>, { a: { b: 2 } });
    expect(run('a.b == 2', s)).toBe(true);
  });
});
