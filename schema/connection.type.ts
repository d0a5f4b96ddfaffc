import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import type { Page, PageInput } from '../src/domain/page.js';
import type { PageArgs } from './page.args.js';

@ObjectType({ description: 'Relay page information.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean, { description: 'Always false: lists page forward only.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page.' })
  endCursor!: string | null;
}

export interface ConnectionShape<T> {
  edges: { node: T; cursor: string }[];
  nodes: T[];
  pageInfo: PageInfo;
  totalCount?: number;
}

/** A Relay connection type for `Item`, named `<Item>Connection` with `<Item>Edge` edges. */
export function Connection<T extends object>(Item: ClassType<T>) {
  @ObjectType(`${Item.name}Edge`)
  class Edge {
    @Field(() => Item)
    node!: T;

    @Field(() => String)
    cursor!: string;
  }

  // Not emitted itself: only the concrete <Item>Connection subclasses are reachable.
  @ObjectType()
  abstract class ConnectionType implements ConnectionShape<T> {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => [Item], {
      description: 'The nodes of the edges, for clients that need no cursors.',
    })
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    // Read only when selected (pageInput), so absent exactly when nobody resolves it.
    @Field(() => Int, { description: 'All rows matching the filter, across pages.' })
    totalCount?: number;
  }
  return ConnectionType;
}

/**
 * A list field's page arguments, and whether its selection names `totalCount` (through
 * fragments too; a directive on it still counts): only then is the count read.
 */
export function pageInput({ first, after }: PageArgs, info: GraphQLResolveInfo): PageInput {
  const visited = new Set<string>();
  const selects = (set: SelectionSetNode | undefined): boolean =>
    !!set &&
    set.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === 'totalCount';
      if (selection.kind === Kind.INLINE_FRAGMENT) return selects(selection.selectionSet);
      const name = selection.name.value;
      if (visited.has(name)) return false;
      visited.add(name);
      return selects(info.fragments[name]?.selectionSet);
    });
  return { first, after, total: info.fieldNodes.some((node) => selects(node.selectionSet)) };
}

/** A page as a connection; `map` turns each node into the GraphQL type (cursors stay lazy). */
export function toConnection<T>(page: Page<T>): ConnectionShape<T>;
export function toConnection<T, U>(page: Page<T>, map: (node: T) => U): ConnectionShape<U>;
export function toConnection<T, U>(page: Page<T>, map?: (node: T) => U): ConnectionShape<T | U> {
  const edges = map
    ? page.items.map((item) => ({
        node: map(item.node),
        get cursor() {
          return item.cursor;
        },
      }))
    : page.items;
  return {
    edges,
    nodes: edges.map((e) => e.node),
    totalCount: page.totalCount,
    // Signed only when asked for, as the edges' cursors are (graph/page.ts).
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: false,
      get startCursor() {
        return page.items[0]?.cursor ?? null;
      },
      get endCursor() {
        return page.items.at(-1)?.cursor ?? null;
      },
    },
  };
}
