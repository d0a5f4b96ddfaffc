import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * The names of the fields the query selects on this field's value (on each item of a list),
 * through fragments, sorted; skipped fields count as selected. A loader given them reads only
 * those properties when they are all plain properties (e.g. taskPropertiesOnly), as
 * @neo4j/graphql does (issue 15): a nested read decoded every property of hundreds of nodes
 * to answer three.
 */
export function selectedFields(info: GraphQLResolveInfo): readonly string[] {
  let names = selectedByNodes.get(info.fieldNodes);
  if (!names) {
    names = namesIn(fieldsIn(info, info.fieldNodes));
    selectedByNodes.set(info.fieldNodes, names);
  }
  return names;
}

/**
 * selectedFields by field nodes: a list's items share theirs (as graphql-js and graphql-jit
 * hand them to each item's resolvers), and they depend on nothing but the document, so a page
 * of 50 agents works out its items' selection once (issue 15).
 */
const selectedByNodes = new WeakMap<readonly FieldNode[], readonly string[]>();

/** selectedFields one level down: what the query selects on the value of its field `name`. */
export function selectedFieldsUnder(info: GraphQLResolveInfo, name: string): string[] {
  const under = fieldsIn(info, info.fieldNodes).filter((f) => f.name.value === name);
  return namesIn(fieldsIn(info, under));
}

/**
 * The field nodes the query selects at `path` below this field, through fragments: with
 * ['nodes'], those on each item of a connection's nodes.
 */
export function fieldNodesAt(info: GraphQLResolveInfo, path: readonly string[]): FieldNode[] {
  let level = fieldsIn(info, info.fieldNodes);
  for (const name of path)
    level = fieldsIn(
      info,
      level.filter((f) => f.name.value === name),
    );
  return level;
}

/** selectedFields of the field these nodes select (all of one response key). */
export function selectedFieldsOf(info: GraphQLResolveInfo, nodes: readonly FieldNode[]): string[] {
  return namesIn(fieldsIn(info, nodes));
}

/** The fields selected on `nodes`' values, through fragments. */
function fieldsIn(info: GraphQLResolveInfo, nodes: readonly FieldNode[]): FieldNode[] {
  const fields: FieldNode[] = [];
  const visit = (set: SelectionSetNode | undefined): void => {
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.FIELD) fields.push(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) visit(s.selectionSet);
      else visit(info.fragments[s.name.value]?.selectionSet);
    }
  };
  for (const node of nodes) visit(node.selectionSet);
  return fields;
}

const namesIn = (fields: FieldNode[]) =>
  [...new Set(fields.map((f) => f.name.value).filter((n) => n !== '__typename'))].sort();
