/**
 * A small, safe expression language for workflow step conditions, e.g.
 *   steps.research.status == "COMPLETED" && steps.research.output.confidence >= 0.7
 *
 * It is parsed into a plain AST and interpreted: no eval, no Function, no calls, and paths read
 * only own data properties of plain objects and arrays (getters never run).
 *
 * Grammar (precedence low → high):
 *   condition  = or
 *   or         = and      { ("||" | "or") and }
 *   and        = equality { ("&&" | "and") equality }
 *   equality   = compare  { ("==" | "!=") compare }
 *   compare    = member   { ("<" | "<=" | ">" | ">=") member }
 *   member     = unary    { ("in" | "contains") unary }
 *   unary      = ("!" | "not" | "-") unary | primary
 *   primary    = number | string | "true" | "false" | "null"
 *              | "[" [ or { "," or } ] "]" | "(" or ")" | path
 *   path       = name { "." name | "[" (string | number) "]" }
 *   number     = digits [ "." digits ]            (negative numbers via unary "-")
 *   string     = '"' … '"' | "'" … "'"            (escapes: \" \' \\ \n)
 *   name       = [A-Za-z_][A-Za-z0-9_]*           (after "." any name, keywords included)
 *   A key with "-" (the planner's step-1) is read by [ ]: steps["step-1"].output.score
 *
 * Semantics:
 * - A missing path is null. `__proto__`, `constructor`, `prototype`, inherited properties,
 *   accessors and properties of anything but plain objects/arrays all read as null.
 * - `==`/`!=` are strict (`1 == "1"` is false); lists/objects are equal only by reference.
 * - `<` `<=` `>` `>=` compare two numbers or two strings; any other pair is false.
 * - `a in b`: b is a list holding a, or both are strings and b contains a.
 *   `a contains b`: a is a list holding b, or both are strings and a contains b.
 * - Falsy: false, null, 0, NaN, "" and the empty list. `!`, `&&`, `||` yield booleans.
 * Limits: at most 1,000 characters, 200 tokens and 32 nesting levels (parentheses, lists,
 * unary operators). Positions in errors are 0-based character offsets.
 */

export class ConditionError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'ConditionError';
  }
}

type Primitive = null | boolean | number | string;
export type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'contains';
export type ConditionAst =
  | { kind: 'literal'; value: Primitive }
  | { kind: 'list'; items: ConditionAst[] }
  | { kind: 'path'; path: string[] }
  | { kind: 'unary'; op: '!' | '-'; operand: ConditionAst }
  | { kind: 'binary'; op: BinaryOp; left: ConditionAst; right: ConditionAst };

export const CONDITION_LIMITS = { length: 1000, tokens: 200, depth: 32 } as const;

interface Token {
  kind: 'number' | 'string' | 'name' | 'punct' | 'end';
  text: string; // as written in the source
  value: string | number; // decoded value of number and string tokens
  pos: number;
}

// Groups: whitespace, number, name, run of operator characters, other punctuation.
const TOKEN = /(\s+)|(\d+(?:\.\d+)?)|([A-Za-z_]\w*)|([=!<>&|]+)|([()[\],.-])/y;
const OPERATORS = new Set(['||', '&&', '==', '!=', '<', '<=', '>', '>=', '!']);
const WORDS = new Map([
  ['or', '||'],
  ['and', '&&'],
  ['not', '!'],
  ['in', 'in'],
  ['contains', 'contains'],
]);
const LEVELS = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['in', 'contains']];
const ESCAPES: Record<string, string> = { n: '\n', '"': '"', "'": "'", '\\': '\\' };
const BLOCKED = new Set(['__proto__', 'constructor', 'prototype']);

/** Every message reads "<what> at position <n>[: <detail>]". */
function raise(what: string, position: number, detail?: string): never {
  throw new ConditionError(
    `${what} at position ${position}${detail ? `: ${detail}` : ''}`,
    position,
  );
}

function tokenize(text: string): Token[] {
  const { length: maxLength, tokens: maxTokens } = CONDITION_LIMITS;
  if (text.length > maxLength) {
    raise(
      'Condition is too long',
      maxLength,
      `at most ${maxLength} characters, but got ${text.length}`,
    );
  }
  const tokens: Token[] = [];
  const push = (kind: Token['kind'], pos: number, raw: string, value: string | number = raw) => {
    if (tokens.length === maxTokens) raise('Too many tokens', pos, `at most ${maxTokens}`);
    tokens.push({ kind, text: raw, value, pos });
  };
  for (let i = 0; i < text.length;) {
    const start = i;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      let value = '';
      for (i++; text[i] !== quote;) {
        if (i >= text.length)
          raise('Unterminated string starting', start, `missing closing ${quote}`);
        if (text[i] !== '\\') {
          value += text[i++];
          continue;
        }
        const escaped = ESCAPES[text[i + 1] ?? ''];
        if (escaped === undefined) {
          raise(`Unknown escape "${text.slice(i, i + 2)}"`, i, `use \\" \\' \\\\ or \\n`);
        }
        value += escaped;
        i += 2;
      }
      push('string', start, text.slice(start, ++i), value);
      continue;
    }
    TOKEN.lastIndex = i;
    const match = TOKEN.exec(text);
    if (!match) return raise(`Unexpected character "${text[i]}"`, i);
    i = TOKEN.lastIndex;
    const [raw, space, number, name, run] = match;
    if (number) push('number', start, raw, Number(raw));
    else if (name) push('name', start, raw);
    else if (run) {
      // "&&!x" and "!!x" arrive as one run of operator characters: split off trailing "!"s.
      const head = run.replace(/!+$/, '');
      if (head && !OPERATORS.has(head)) raise(`Unknown operator "${head}"`, start);
      if (head) push('punct', start, head);
      for (let k = head.length; k < run.length; k++) push('punct', start + k, '!');
    } else if (!space) push('punct', start, raw);
  }
  tokens.push({ kind: 'end', text: '', value: '', pos: text.length });
  return tokens;
}

/** Parses a condition (grammar above). Throws ConditionError for bad syntax or over a limit. */
export function parseCondition(text: string): ConditionAst {
  const tokens = tokenize(text);
  let at = 0;
  let depth = 0;
  const peek = () => tokens[at]!;
  const next = () => tokens[peek().kind === 'end' ? at : at++]!;
  const is = (t: Token, punct: string) => t.kind === 'punct' && t.text === punct;
  const isWord = (t: Token) => t.kind === 'name' && WORDS.has(t.text);
  const operatorOf = (t: Token) =>
    t.kind === 'punct' ? t.text : isWord(t) ? WORDS.get(t.text) : undefined;

  function fail(t: Token, expected: string): never {
    const shown = t.text.length > 30 ? `${t.text.slice(0, 30)}…` : t.text;
    return raise(`Unexpected ${t.kind === 'end' ? 'end of input' : `"${shown}"`}`, t.pos, expected);
  }
  function close(punct: string, open: Token): void {
    const t = next();
    if (!is(t, punct))
      fail(t, `expected "${punct}" to close "${open.text}" at position ${open.pos}`);
  }
  function nested<T>(open: Token, parse: () => T): T {
    const max = CONDITION_LIMITS.depth;
    if (++depth > max) raise(`Too deeply nested "${open.text}"`, open.pos, `at most ${max} levels`);
    const result = parse();
    depth--;
    return result;
  }

  function binary(level: number): ConditionAst {
    const ops = LEVELS[level];
    if (!ops) return unary();
    let left = binary(level + 1);
    let op = operatorOf(peek());
    while (op && ops.includes(op)) {
      next();
      left = { kind: 'binary', op: op as BinaryOp, left, right: binary(level + 1) };
      op = operatorOf(peek());
    }
    return left;
  }

  function unary(): ConditionAst {
    const t = peek();
    const op = operatorOf(t);
    if (op !== '!' && op !== '-') return primary();
    next();
    return nested(t, () => ({ kind: 'unary', op, operand: unary() }));
  }

  function primary(): ConditionAst {
    const t = next();
    if (t.kind === 'number' || t.kind === 'string') return { kind: 'literal', value: t.value };
    if (is(t, '(')) {
      return nested(t, () => {
        const inner = binary(0);
        close(')', t);
        return inner;
      });
    }
    if (is(t, '[')) {
      return nested(t, () => {
        const items: ConditionAst[] = [];
        while (!is(peek(), ']')) {
          items.push(binary(0));
          if (!is(peek(), ',')) break;
          next();
        }
        close(']', t);
        return { kind: 'list', items };
      });
    }
    if (t.kind !== 'name' || isWord(t)) return fail(t, 'expected a value');
    if (t.text === 'true' || t.text === 'false')
      return { kind: 'literal', value: t.text === 'true' };
    if (t.text === 'null') return { kind: 'literal', value: null };
    const path = [t.text];
    for (;;) {
      const open = peek();
      if (is(open, '.')) {
        next();
        const name = next();
        if (name.kind !== 'name') fail(name, 'expected a property name after "."');
        path.push(name.text);
      } else if (is(open, '[')) {
        next();
        const key = next();
        if (key.kind !== 'string' && key.kind !== 'number') {
          fail(key, 'expected a string or number inside [ ]');
        }
        path.push(String(key.value));
        close(']', open);
      } else if (is(open, '(')) {
        fail(open, 'function calls are not supported');
      } else {
        if (is(open, '-')) hyphenated(path, open);
        return { kind: 'path', path };
      }
    }
  }

  // "steps.step-1" (the planner's keys): no "-" follows a path, so say how to write the key
  // rather than read a subtraction the grammar does not have.
  function hyphenated(path: string[], dash: Token): void {
    const last = tokens[at - 1]!;
    if (last.kind !== 'name' || path.length < 2 || last.pos + last.text.length !== dash.pos) return;
    const key = /[\w-]+/y;
    key.lastIndex = last.pos;
    const written = key.exec(text)![0].replace(/-+$/, '');
    const prefix = path
      .slice(0, -1)
      .map((p, i) => (i === 0 ? p : /^[A-Za-z_]\w*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`))
      .join('');
    fail(
      dash,
      `expected an operator or end of input; write ${prefix}[${JSON.stringify(written)}] for a key with "-"`,
    );
  }

  const ast = binary(0);
  if (peek().kind !== 'end') fail(peek(), 'expected an operator or end of input');
  return ast;
}

/** Null when `text` is a valid condition, else the ConditionError message (for input checks). */
export function checkCondition(text: string): string | null {
  try {
    parseCondition(text);
    return null;
  } catch (error) {
    if (error instanceof ConditionError) return error.message;
    throw error;
  }
}

/**
 * Null when a valid condition reads only `steps.<key>` of these dependency keys (the data the
 * engine gives it), else what it reads that is not one, for input checks.
 */
export function conditionKeysProblem(condition: string, dependencyKeys: string[]): string | null {
  for (const path of pathsOf(parseCondition(condition))) {
    if (path[0] !== 'steps')
      return `condition may only read steps.<key>..., but reads "${path.join('.')}"`;
    const key = path[1];
    if (key === undefined || !dependencyKeys.includes(key)) {
      const known = dependencyKeys.length ? dependencyKeys.join(', ') : 'none';
      return `condition refers to step "${key ?? ''}", which is not one of this task's dependencies (their keys: ${known})`;
    }
  }
  return null;
}

/** Every distinct path the condition reads, in order of appearance, e.g. [['steps', 'a']]. */
export function pathsOf(ast: ConditionAst): string[][] {
  const seen = new Map<string, string[]>();
  const walk = (node: ConditionAst): void => {
    if (node.kind === 'path') seen.set(JSON.stringify(node.path), [...node.path]);
    else if (node.kind === 'list') node.items.forEach(walk);
    else if (node.kind === 'unary') walk(node.operand);
    else if (node.kind === 'binary') [node.left, node.right].forEach(walk);
  };
  walk(ast);
  return [...seen.values()];
}

/**
 * Evaluates a parsed condition against `scope` (e.g. `{ steps: {...} }`) and returns the
 * truthiness of its value. Missing data reads as null; it never throws for missing data.
 */
export function evaluateCondition(ast: ConditionAst, scope: Record<string, unknown>): boolean {
  return truthy(evaluate(ast, scope));
}

function evaluate(node: ConditionAst, scope: unknown): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'list':
      return node.items.map((item) => evaluate(item, scope));
    case 'path':
      return node.path.reduce<unknown>(readOwn, scope);
    case 'unary': {
      const value = evaluate(node.operand, scope);
      if (node.op === '!') return !truthy(value);
      return typeof value === 'number' ? -value : null;
    }
    case 'binary': {
      const left = evaluate(node.left, scope);
      if (node.op === '||') return truthy(left) || truthy(evaluate(node.right, scope));
      if (node.op === '&&') return truthy(left) && truthy(evaluate(node.right, scope));
      return compare(node.op, left, evaluate(node.right, scope));
    }
  }
}

function compare(op: BinaryOp, a: unknown, b: unknown): boolean {
  const strings = typeof a === 'string' && typeof b === 'string';
  if (op === '==') return a === b;
  if (op === '!=') return a !== b;
  if (op === 'in') return Array.isArray(b) ? b.some((x) => x === a) : strings && b.includes(a);
  if (op === 'contains')
    return Array.isArray(a) ? a.some((x) => x === b) : strings && a.includes(b);
  if (!strings && (typeof a !== 'number' || typeof b !== 'number')) return false;
  const [x, y] = [a as number | string, b as number | string];
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

/** An own data property of a plain object or array; anything else is null. */
function readOwn(value: unknown, key: string): unknown {
  if (BLOCKED.has(key) || typeof value !== 'object' || value === null) return null;
  const proto: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return null;
  const descriptor = Object.getOwnPropertyDescriptor(value, key);
  const found: unknown = descriptor && 'value' in descriptor ? descriptor.value : null;
  return found === undefined || typeof found === 'function' ? null : found;
}

/** false, null, 0, NaN, "" and [] are falsy. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return value !== false && value !== null && value !== undefined && value !== '';
}
