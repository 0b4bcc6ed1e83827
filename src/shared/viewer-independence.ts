import type { Context } from './context';

/** Fields of one GraphQL object type whose values are the same whoever looks (see {@link viewerIndependent}). */
export interface ViewerIndependentFields {
  typeName: string;
  fields: readonly string[];
}

/**
 * Declares, beside a type's definition, which of its fields every viewer sees alike. A
 * subscription whose selection under its root field uses only such fields (and `__typename`) is
 * executed once per event for all its local subscribers (src/execution/shared-subscribe.ts),
 * with a viewer-blind context: a declared field whose resolver reads the viewer fails with
 * {@link ViewerAccessError} instead of serving one viewer's data to another.
 *
 * @param type - the `@ObjectType` class; its GraphQL name is the class name unless `typeName` says otherwise.
 */
export function viewerIndependent<T>(
  type: abstract new (...args: never[]) => T,
  fields: ReadonlyArray<keyof T & string>,
  typeName: string = type.name,
): ViewerIndependentFields {
  return { typeName, fields };
}

/** Thrown when a field declared viewer-independent reads the viewer. */
export class ViewerAccessError extends Error {
  constructor(what: string) {
    super(`a field declared viewer-independent read ${what} (see viewerIndependent)`);
    this.name = 'ViewerAccessError';
  }
}

/**
 * The context of an event executed once for many subscribers: the first subscriber's loaders and
 * container, and no viewer (`user`, `session` and `connectionId` throw {@link ViewerAccessError}).
 */
export function viewerBlindContext(context: Context): Context {
  return new ViewerBlindContext(context);
}

class ViewerBlindContext implements Context {
  readonly viewerBlind = true as const;

  constructor(private readonly base: Context) {}

  get user(): never {
    throw new ViewerAccessError('context.user');
  }
  get session(): never {
    throw new ViewerAccessError('context.session');
  }
  get connectionId(): never {
    throw new ViewerAccessError('context.connectionId');
  }
  get loaders(): Context['loaders'] {
    return this.base.loaders;
  }
  get requestId(): string {
    return this.base.requestId;
  }
  get container(): Context['container'] {
    return this.base.container;
  }
}
