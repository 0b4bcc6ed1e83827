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
import { PushStream, type Sink } from '../shared/push-iterator';

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
export class SubscriptionEvents implements Sink<unknown> {
  private target: PayloadTarget | null = null;
  private id = '';

  // The execution arguments are kept as fields, not as the args object (one object less per subscription).
  private readonly document: DocumentNode;
  private readonly operationName: string | null | undefined;
  private readonly variableValues: ExecutionArgs['variableValues'];
  private readonly contextValue: unknown;

  constructor(
    /** The source stream (the field's `subscribe`): iterate it, or `pipe` it when it is a PushStream; `return()` stops it. */
    readonly source: AsyncIterator<unknown>,
    args: ExecutionArgs,
    /** Events of one document and the same variable values share results under this key; null: never shared. */
    private readonly key: string | null,
    private readonly shared: SharedResults,
  ) {
    this.document = args.document;
    this.operationName = args.operationName;
    this.variableValues = args.variableValues;
    this.contextValue = args.contextValue;
  }

  /** The serialized `next` payload of `event`: a string when already known, else a promise of it. */
  payload(event: unknown): string | Promise<string> {
    if (this.key === null || typeof event !== 'object' || event === null) return this.shared.serialize(this.execute(event));
    let byKey = this.shared.results.get(event);
    if (!byKey) this.shared.results.set(event, (byKey = new Map()));
    const known = byKey.get(this.key);
    if (known !== undefined) return known;
    const key = this.key;
    const made = this.shared.serialize(this.execute(event));
    byKey.set(key, made);
    if (typeof made !== 'string') void made.then((json) => byKey.set(key, json), () => undefined);
    return made;
  }

  private execute(event: unknown) {
    const { document, operationName, variableValues, contextValue } = this;
    return execute({ schema: this.shared.schema, document, operationName, variableValues, contextValue, rootValue: event });
  }

  /**
   * Push mode, when the source is a {@link PushStream}: every event's payload goes to `target` as
   * operation `id`, then the end. This object is the stream's sink, so a subscription costs no
   * closure or promise while it waits.
   * @returns false (and nothing happens) when the source cannot be piped: iterate it instead.
   */
  pipeTo(target: PayloadTarget, id: string): boolean {
    if (!(this.source instanceof PushStream)) return false;
    this.target = target;
    this.id = id;
    this.source.pipe(this);
    return true;
  }

  /** @internal The sink side of {@link pipeTo}. */
  next(event: unknown): void | Promise<void> {
    const payload = this.payload(event);
    if (typeof payload === 'string') return this.target!.deliver(this.id, this.source, payload);
    return payload.then((json) => this.target!.deliver(this.id, this.source, json));
  }

  /** @internal The sink side of {@link pipeTo}. */
  end(error?: unknown): void {
    this.target!.ended(this.id, this.source, error);
  }
}

/** Where {@link SubscriptionEvents.pipeTo} sends a subscription's payloads (the WebSocket connection). */
export interface PayloadTarget {
  /** One event's `next` payload (JSON text) for operation `id`, unless `id` no longer runs `source`. */
  deliver(id: string, source: AsyncIterator<unknown>, payloadJson: string): void;
  /** The source ended (with its error, if it failed). */
  ended(id: string, source: AsyncIterator<unknown>, error?: unknown): void;
}

/** Per-event results shared between subscribers, and how a result becomes a payload. */
class SharedResults {
  readonly results = new WeakMap<object, Map<string, string | Promise<string>>>();

  constructor(
    readonly schema: GraphQLSchema,
    private readonly format: (result: ExecutionResult) => unknown,
  ) {}

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
  const shared = new SharedResults(schema, format);

  return async (args: ExecutionArgs): Promise<ExecutionResult | SubscriptionEvents> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    let plan = plans.get(args.document);
    if (!plan) plans.set(args.document, (plan = planFor(schema, args)));
    const key = !plan.shareable
      ? null
      : plan.variables.length === 0
        ? plan.key
        : `${plan.key}${JSON.stringify(plan.variables.map((v) => args.variableValues?.[v] ?? null))}`;
    return new SubscriptionEvents(source as unknown as AsyncIterator<unknown>, args, key, shared);
  };
}

interface Plan {
  /** Unique per plan; the whole sharing key when the selection uses no variables (one string for all subscribers). */
  key: string;
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
  return { key: `${++nextPlanId}|`, shareable, variables: [...variables] };
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
