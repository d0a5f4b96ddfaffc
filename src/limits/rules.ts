import {
  Kind,
  type FieldNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { LimitsConfig } from './config.js';
import { describeCount, LimitCode, LimitError, limitGraphQLError } from './errors.js';

/**
 * Measures a selection set, expanding fragment spreads. Each fragment is measured once and
 * remembered, so a spread repeated at every level (a fragment "bomb") costs no more than the
 * document's size; a spread back into a fragment being measured counts as nothing (the cycle
 * itself is NoFragmentCycles' to report). `introspection` tells `field` whether the field is
 * under `__schema`/`__type` or in a fragment on an introspection type (`__Type`...).
 */
function selectionMeasure(
  context: ValidationContext,
  combine: {
    field: (field: FieldNode, inner: number, introspection: boolean) => number;
    siblings: (a: number, b: number) => number;
  },
): (set: SelectionSetNode | undefined) => number {
  const fragments = new Map<string, number>();
  const measuring = new Set<string>();
  const measure = (set: SelectionSetNode | undefined, introspection = false): number => {
    let total = 0;
    for (const selection of set?.selections ?? []) {
      let value: number;
      if (selection.kind === Kind.FIELD) {
        const inner = introspection || selection.name.value.startsWith('__');
        value = combine.field(selection, measure(selection.selectionSet, inner), introspection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition?.name.value;
        value = measure(selection.selectionSet, on ? on.startsWith('__') : introspection);
      } else {
        value = fragment(selection.name.value);
      }
      total = combine.siblings(total, value);
    }
    return total;
  };
  // A fragment's measure does not depend on where it is spread: its type condition alone
  // says whether it is introspection.
  const fragment = (name: string): number => {
    const known = fragments.get(name);
    if (known !== undefined) return known;
    const definition = context.getFragment(name);
    if (!definition || measuring.has(name)) return 0;
    measuring.add(name);
    const introspection = definition.typeCondition.name.value.startsWith('__');
    const value = measure(definition.selectionSet, introspection);
    measuring.delete(name);
    fragments.set(name, value);
    return value;
  };
  return (set) => measure(set);
}

function assertLimit(name: string, limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`${name} must be a whole number greater than 0, but got ${limit}`);
  }
}

/**
 * Rejects an operation whose fields nest deeper than `maxDepth`, counting through fragments
 * and inline fragments: `{ a { b } }` has depth 2. In introspection, `ofType` adds no depth.
 * Reports QUERY_TOO_DEEP per operation.
 */
export function maxDepthRule(maxDepth: number): ValidationRule {
  assertLimit('maxDepth', maxDepth);
  return (context) => {
    const depthOf = selectionMeasure(context, {
      // `__Type.ofType` is one object, its chain as long as a type's wrappers (`[T!]!`):
      // free, so the standard introspection query (15 levels, 6 without it) passes. The
      // fan-out of introspection (`fields { type { fields ...`) still counts, and graphql's
      // own MaxIntrospectionDepthRule caps it too.
      field: (field, inner, introspection) =>
        (introspection && field.name.value === 'ofType' ? 0 : 1) + inner,
      siblings: Math.max,
    });
    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet);
        if (depth > maxDepth) {
          const error = new LimitError(
            LimitCode.QUERY_TOO_DEEP,
            `Query depth ${depth} is over the limit of ${maxDepth}`,
            { limit: maxDepth, received: depth },
          );
          context.reportError(limitGraphQLError(error, operation));
        }
        return false;
      },
    };
  };
}

/**
 * Rejects a document with more than `maxAliases` aliased fields in all its operations
 * together. A fragment's aliases count once per spread, so aliases multiplied by spreading one
 * fragment many times are caught. Reports TOO_MANY_ALIASES once per document.
 */
export function maxAliasesRule(maxAliases: number): ValidationRule {
  assertLimit('maxAliases', maxAliases);
  return (context) => {
    const aliasesIn = selectionMeasure(context, {
      field: (field, inner) => (field.alias ? 1 : 0) + inner,
      siblings: (a, b) => a + b,
    });
    let count = 0;
    return {
      OperationDefinition(operation) {
        count += aliasesIn(operation.selectionSet);
        return false;
      },
      Document: {
        leave(document) {
          if (count <= maxAliases) return;
          const error = new LimitError(
            LimitCode.TOO_MANY_ALIASES,
            `Alias count ${describeCount(count)} is over the limit of ${maxAliases}`,
            { limit: maxAliases, received: count },
          );
          const operations = document.definitions.filter(
            (d) => d.kind === Kind.OPERATION_DEFINITION,
          );
          context.reportError(limitGraphQLError(error, operations));
        },
      },
    };
  };
}

/** Both rules, for Apollo's `validationRules` and for graphql-ws (see ws.ts). */
export function limitValidationRules(
  limits: Pick<LimitsConfig, 'maxDepth' | 'maxAliases'>,
): ValidationRule[] {
  return [maxDepthRule(limits.maxDepth), maxAliasesRule(limits.maxAliases)];
}
