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
 * A subscription's events as the payloads of graphql-ws `next` messages, already serialized:
 * `payload(event)` is the JSON text of `{ data, errors? }` for one event of `source`.
 */
export class SubscriptionEvents {
  constructor(
    /** The source stream (the field's `subscribe`): iterate it, or `pipe` it when it is a PushStream; `return()` stops it. */
    readonly source: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
    /** Events of one document and the same variable values share results under this key; null: never shared. */
    private readonly key: string | null,
    private readonly shared: SharedResults,
  ) {}

  /** The serialized `next` payload of `event`: a string when already known, else a promise of it. */
  payload(event: unknown): string | Promise<string> {
    if (this.key === null || typeof event !== 'object' || event === null) return this.shared.serialize(execute({ ...this.args, rootValue: event }));
    let byKey = this.shared.results.get(event);
    if (!byKey) this.shared.results.set(event, (byKey = new Map()));
    const known = byKey.get(this.key);
    if (known !== undefined) return known;
    const key = this.key;
    const made = this.shared.serialize(execute({ ...this.args, rootValue: event }));
    byKey.set(key, made);
    if (typeof made !== 'string') void made.then((json) => byKey.set(key, json), () => undefined);
    return made;
  }
}

/** Per-event results shared between subscribers, and how a result becomes a payload. */
class SharedResults {
  readonly results = new WeakMap<object, Map<string, string | Promise<string>>>();

  constructor(private readonly format: (result: ExecutionResult) => unknown) {}

  serialize(result: ExecutionResult | Promise<ExecutionResult>): string | Promise<string> {
    if (!isPromise(result)) return JSON.stringify(this.format(result));
    return result.then((r) => JSON.stringify(this.format(r)));
  }
}

const isPromise = <T>(value: unknown): value is Promise<T> => typeof (value as Promise<T> | null)?.then === 'function';

/**
 * The `subscribe` of Parley's graphql-ws server, executing each event once per distinct document
 * instead of once per subscriber where the result cannot depend on the viewer, and serializing
 * that result once too. graphql-js's `subscribe` executes the selection set for every subscriber
 * of every event: in a group of 1,000 that is 1,000 identical executions per message, and
 * graphql-ws then serializes 1,000 identical payloads. Here the first subscriber's execution of an
 * event (the event object is shared by every local subscriber, see message-stream.ts) serves the
 * others with the same document and the same values of the variables that the selection uses; a
 * subscriber's frame differs only in its subscription id (see ws-connection.ts). The source stream
 * (authorization, topics) is still made per subscriber by the field's own `subscribe`. Other
 * documents are executed per subscriber, as graphql-js does.
 *
 * @param format - turns an execution result into the `next` payload (error formatting).
 * @returns `subscribe(args)`: the events, or the result with the errors of a failed subscribe.
 */
export function createSharedSubscribe(schema: GraphQLSchema, format: (result: ExecutionResult) => unknown) {
  const plans = new WeakMap<DocumentNode, Plan>();
  const shared = new SharedResults(format);

  return async (args: ExecutionArgs): Promise<ExecutionResult | SubscriptionEvents> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    let plan = plans.get(args.document);
    if (!plan) plans.set(args.document, (plan = planFor(schema, args)));
    const key = plan.shareable ? `${plan.id}|${JSON.stringify(plan.variables.map((v) => args.variableValues?.[v] ?? null))}` : null;
    return new SubscriptionEvents(source as unknown as AsyncIterator<unknown>, args, key, shared);
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
