import {
  Kind,
  createSourceEventStream,
  execute,
  getNamedType,
  getOperationAST,
  isObjectType,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

/**
 * Fields whose value is the same for every viewer, by type. A subscription whose selection under
 * its root field uses only these gives every subscriber the same result for one event.
 * `User.presence` is left out (what it shows depends on the viewer), and so is all of
 * `Conversation` (read positions and unread counts are the viewer's).
 */
const VIEWER_INDEPENDENT: Record<string, ReadonlySet<string>> = {
  Message: new Set(['__typename', 'id', 'conversationId', 'seq', 'body', 'clientMessageId', 'createdAt', 'sender']),
  User: new Set(['__typename', 'id', 'username', 'displayName', 'createdAt']),
};

/**
 * graphql-ws's `subscribe`, executing each event once per distinct document instead of once per
 * subscriber where the result cannot depend on the viewer. graphql-ws runs graphql-js's
 * `subscribe`, which executes the selection set for every subscriber of every event: in a group of
 * 1,000 that is 1,000 identical executions per message. Here the first subscriber's execution of
 * an event (the event object is shared by every local subscriber, see message-stream.ts) serves
 * the others with the same document and the same values of the variables that the selection uses.
 * The source stream (authorization, topics) is still made per subscriber by the field's own
 * `subscribe`. Other documents are executed per subscriber, as graphql-js does.
 */
export function createSharedSubscribe(schema: GraphQLSchema) {
  const plans = new WeakMap<DocumentNode, Plan>();
  const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  return async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    let plan = plans.get(args.document);
    if (!plan) plans.set(args.document, (plan = planFor(schema, args)));
    const key = plan.shareable ? `${plan.id}|${JSON.stringify(plan.variables.map((v) => args.variableValues?.[v] ?? null))}` : null;

    const run = (event: unknown) => execute({ ...args, rootValue: event });
    const once = (event: unknown): Promise<ExecutionResult> | ExecutionResult => {
      if (key === null || typeof event !== 'object' || event === null) return run(event);
      let byKey = results.get(event);
      if (!byKey) results.set(event, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = Promise.resolve(run(event))));
      return result;
    };
    return mapEvents(source as AsyncGenerator<unknown>, once);
  };
}

interface Plan {
  id: number;
  shareable: boolean;
  /** Variables used inside the root field's selection (their values must match to share). */
  variables: string[];
}

let nextPlanId = 0;

function planFor(schema: GraphQLSchema, args: ExecutionArgs): Plan {
  const operation = getOperationAST(args.document, args.operationName);
  const root = schema.getSubscriptionType();
  const field = operation?.selectionSet.selections[0];
  const fragments = Object.fromEntries(
    args.document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const variables = new Set<string>();
  let shareable = false;
  if (operation && root && operation.selectionSet.selections.length === 1 && field?.kind === Kind.FIELD && field.selectionSet) {
    const type = getNamedType(root.getFields()[field.name.value]?.type);
    shareable = isObjectType(type) && independent(type, field.selectionSet, fragments, schema, variables);
  }
  return { id: ++nextPlanId, shareable, variables: [...variables] };
}

/** Whether every field selected under `type` is viewer-independent; collects the variables used. */
function independent(
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  schema: GraphQLSchema,
  variables: Set<string>,
): boolean {
  return selectionSet.selections.every((selection) => {
    for (const directive of selection.directives ?? []) {
      for (const arg of directive.arguments ?? []) if (arg.value.kind === Kind.VARIABLE) variables.add(arg.value.name.value);
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments[selection.name.value];
      return !!fragment && fragment.typeCondition.name.value === type.name && independent(type, fragment.selectionSet, fragments, schema, variables);
    }
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      return (!selection.typeCondition || selection.typeCondition.name.value === type.name) && independent(type, selection.selectionSet, fragments, schema, variables);
    }
    if (!VIEWER_INDEPENDENT[type.name]?.has(selection.name.value) || selection.arguments?.length) return false;
    if (!selection.selectionSet) return true;
    const child = getNamedType(type.getFields()[selection.name.value]?.type);
    return isObjectType(child) && independent(child, selection.selectionSet, fragments, schema, variables);
  });
}

/**
 * Maps a source stream without an async generator, so that `return()` reaches the source at
 * once even while a `next()` is pending (an async generator would queue it behind that `next()`,
 * leaving the subscription open until one more event arrives).
 */
function mapEvents<T, R>(source: AsyncIterator<T>, map: (value: T) => Promise<R> | R): AsyncIterableIterator<R> {
  return {
    async next() {
      const item = await source.next();
      return item.done ? { value: undefined, done: true } : { value: await map(item.value), done: false };
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
