import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * The names of the fields the query selects on this field's value (on each item of a list),
 * through fragments, sorted; skipped fields count as selected. A loader given them reads only
 * those properties when they are all plain properties (e.g. taskPropertiesOnly), as
 * @neo4j/graphql does (issue 15): a nested read decoded every property of hundreds of nodes
 * to answer three.
 */
export function selectedFields(info: GraphQLResolveInfo): string[] {
  const names = new Set<string>();
  const visit = (set: SelectionSetNode | undefined): void => {
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value !== '__typename') names.add(s.name.value);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        visit(s.selectionSet);
      } else {
        visit(info.fragments[s.name.value]?.selectionSet);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet);
  return [...names].sort();
}
