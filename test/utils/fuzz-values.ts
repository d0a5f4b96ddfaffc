/*
 * The fuzz suite's randomness and its values (test/fuzz.int.test.ts): a seeded PRNG, so a run
 * is reproducible from its seed, and pools of hostile values per kind of input.
 */

/** A deterministic PRNG (mulberry32): the same seed gives the same run. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** A v4-shaped uuid from the PRNG (crypto's would make the run unrepeatable). */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
  }
}

/** Strings no input is ready for: empty, huge, control, direction, emoji, lone surrogates. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  'x'.repeat(10_000),
  '\u0000',
  'nul\u0000mid',
  'ctl\r\n\t\u0007\u001b[31m',
  '\u202Egnp.exe\u2066\u2069',
  '🙂👩‍👩‍👧‍👦🏳️‍🌈',
  '\uD800',
  'lone \uDC00 low',
  'ok\uDBFF',
  `' OR 1=1 //`,
  `"}) MATCH (n) DETACH DELETE n //`,
  '*:* AND NOT ~ \\ "unbalanced',
  '__proto__',
  'NaN',
  '-1',
  '1e308',
  'Infinity',
  '2026-02-30T25:61:00Z',
  '\u00a0\u2028\u2029',
];

/** Plain values the domain accepts often: the fuzz must get past validation sometimes. */
export const PLAIN_STRINGS: readonly string[] = ['fuzz', 'research', 'Weekly report', 'a b c'];

/** Ints: edges of GraphQL's 32-bit Int and beyond it, fractions, and strings of numbers. */
export const HOSTILE_INTS: readonly unknown[] = [
  0,
  -1,
  1,
  -2_147_483_648,
  2_147_483_647,
  2_147_483_648,
  1e308,
  -1e308,
  1.5,
  'NaN',
  '1',
];

export const HOSTILE_FLOATS: readonly unknown[] = [
  0,
  -0,
  -1,
  5e-324,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  0.5,
  'NaN',
  'Infinity',
];

export const HOSTILE_DATES: readonly unknown[] = [
  '1970-01-01T00:00:00.000Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '2026-02-30T00:00:00.000Z',
  'yesterday',
  '',
  0,
  1e308,
];

/** Values of the wrong JSON type for whatever they are sent as. */
export const WRONG_TYPES: readonly unknown[] = [
  42,
  -1,
  1e308,
  'text',
  true,
  [],
  [1, 'a', null],
  {},
  { a: { b: 1 } },
];

/** A JSON object nested `depth` levels: { a: { a: ... } }. */
export function nestedObject(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** JSONObject values: empty, prototype keys, deep, wide, odd numbers and strings. */
export function hostileObjects(rng: Prng): unknown[] {
  return [
    {},
    JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
    { constructor: { prototype: { polluted: true } } },
    nestedObject(rng.pick([20, 200, 2_000])),
    Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, i])),
    { n: 1e308, tiny: 5e-324, nul: '\u0000', lone: '\uD800', list: [null, [[]], {}] },
    { format: 'agent-platform/organisation', version: 1, nodes: 'not a list' },
  ];
}
