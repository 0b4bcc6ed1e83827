import { Field, ObjectType, type ClassType } from 'type-graphql';
import type { Page } from './pagination';

/** Relay `PageInfo`: only forward pagination (`first`/`after`) is offered. */
@ObjectType({ simpleResolvers: true })
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

/** The shape every `XConnection` object has once built by {@link toConnection}. */
export interface ConnectionShape<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: PageInfo;
}

/**
 * Declares `<Name>Edge` and `<Name>Connection` object types for a node type (the Relay cursor
 * connections spec, as in type-graphql's examples/generic-types).
 */
export function connectionTypes<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class Edge {
    @Field()
    cursor: string;

    @Field(() => node)
    node: T;
  }

  @ObjectType(`${name}ConnectionBase`, { simpleResolvers: true })
  abstract class Connection implements ConnectionShape<T> {
    @Field(() => [Edge])
    edges: Edge[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;
  }
  return Connection;
}

/** Builds a connection from a page, with `cursorOf` giving each node its opaque cursor. */
export function toConnection<T>(page: Page<T>, cursorOf: (node: T) => string): ConnectionShape<T> {
  const edges = page.items.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
  };
}
