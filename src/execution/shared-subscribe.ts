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
import { committedAt } from '../shared/committed-at';
import type { Context } from '../shared/context';
import { PushStream, type ValueMapper, type ValueSink } from '../shared/push-stream';
import { viewerBlindContext, type ViewerIndependentFields } from '../shared/viewer-independence';

/** Viewer-independent field names by type name, `__typename` included. */
type IndependentFields = ReadonlyMap<string, ReadonlySet<string>>;

const FINISHED: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
const isPromise = <T>(value: unknown): value is Promise<T> => typeof (value as Promise<T> | null)?.then === 'function';

/**
 * Where a subscription's results are written as they come, instead of being handed out one
 * `next()` at a time (the WebSocket transport's socket, src/ws/ws-socket.ts).
 */
export interface ResultSink {
  /**
   * Writes `result`, subscription `id`'s result for one event. `result` is one object for every
   * local subscriber that shares it, so that its encoding can be shared too.
   * @param committedAt - the event's commit time (ms since the epoch, src/shared/committed-at.ts),
   *   0 for an event without one (a replayed row, a state event).
   */
  writeResult(id: string, result: ExecutionResult, committedAt: number): void;
}

/**
 * A subscription's execution arguments (what makeServer's `onSubscribe` returns, passed on to
 * `subscribe`), naming where its results are written; without a sink they are handed out by `next()`.
 */
export interface SinkExecutionArgs extends ExecutionArgs {
  resultSink?: ResultSink;
  /** The subscription's id in its protocol (graphql-ws's operation id). */
  subscriptionId?: string;
}

/**
 * A subscription's results, one per event of its source stream: what graphql-js's `subscribe`
 * returns (an async iterator of execution results), with the execution of an event shared by the
 * subscribers whose results cannot differ (see {@link createSharedSubscribe}). graphql-ws's
 * `makeServer` reads it with `for await` and stops it with `return()`, which reaches the source at
 * once, also while a `next()` waits (an async generator would queue it behind that `next()`,
 * leaving the subscription open until one more event arrived). A class, not a closure per method:
 * an idle subscription holds one for hours.
 *
 * With a {@link ResultSink} in its arguments and a {@link PushStream} source (every Parley
 * stream), each result is written to the sink in the call that pushes its event, and the one
 * `next()` graphql-ws asks for settles when the stream ends: graphql-ws's per-result path (an
 * async `emit.next`, its hook, and a `JSON.stringify` of the whole frame, for every subscriber of
 * every event) is skipped. graphql-ws still sends the `complete` or `error` frame at the end, after
 * the last result.
 */
export class SubscriptionEvents
  implements AsyncIterableIterator<ExecutionResult>, ValueMapper<unknown, ExecutionResult>, ValueSink<unknown>
{
  /** Results on their way to the sink behind one still executing (in event order); null: none. */
  private writing: Promise<void> | null = null;

  constructor(
    /** The source stream (the field's `subscribe`); `return()` stops it. */
    private readonly source: AsyncIterator<unknown>,
    private readonly args: SinkExecutionArgs,
    /** Events of one document and the same variable values share results under this key; null: never shared. */
    private readonly key: string | null,
    /** Results by event, then by key; an event object is shared by every local subscriber. */
    private readonly shared: WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>,
  ) {}

  // Not an async function: a subscription waits in `next()` for hours, and an async function's
  // suspended frame costs more than one callback. A PushStream source (every Parley stream) maps
  // the event itself, so that the wait is one promise, not two and a callback (heap snapshots).
  next(): Promise<IteratorResult<ExecutionResult>> {
    const source = this.source;
    if (source instanceof PushStream) {
      if (this.args.resultSink) return source.drainTo(this);
      return source.nextMapped(this);
    }
    return source.next().then((item) => this.step(item));
  }

  /** @internal The mapper of {@link PushStream.nextMapped}: an event's result. */
  map(event: unknown): ExecutionResult | Promise<ExecutionResult> {
    return this.result(event);
  }

  /** @internal The sink of {@link PushStream.drainTo}: writes an event's result, in event order. */
  take(event: unknown): void {
    const at = committedAt(event);
    const result = this.result(event);
    if (this.writing === null && !isPromise(result)) {
      this.write(result, at);
      return;
    }
    // Both at once: a result rejected while an earlier one still executes is then never unhandled.
    const writing: Promise<void> = Promise.all([result, this.writing]).then(
      ([value]) => this.write(value, at),
      (err: unknown) => (this.source as PushStream<unknown>).end(err),
    );
    this.writing = writing;
    void writing.then(() => {
      if (this.writing === writing) this.writing = null;
    });
  }

  /** @internal The stream ended: its `next()` settles once the results still executing are written. */
  ended(): Promise<void> | null {
    return this.writing;
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    return FINISHED;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private write(result: ExecutionResult, at: number): void {
    this.args.resultSink!.writeResult(this.args.subscriptionId!, result, at);
  }

  private step(
    item: IteratorResult<unknown>,
  ): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> {
    if (item.done) return FINISHED;
    const result = this.result(item.value);
    return isPromise(result) ? result.then((value) => ({ value, done: false })) : { value: result, done: false };
  }

  /** The result of `event`: another subscriber's when it has the same key, else executed here. */
  private result(event: unknown): ExecutionResult | Promise<ExecutionResult> {
    if (this.key === null || typeof event !== 'object' || event === null)
      return execute({ ...this.args, rootValue: event });
    let byKey = this.shared.get(event);
    if (!byKey) this.shared.set(event, (byKey = new Map<string, ExecutionResult | Promise<ExecutionResult>>()));
    let result = byKey.get(this.key);
    if (result === undefined) {
      const contextValue = viewerBlindContext(this.args.contextValue as Context);
      byKey.set(this.key, (result = execute({ ...this.args, rootValue: event, contextValue })));
    }
    return result;
  }
}

/**
 * The `subscribe` of Parley's graphql-ws server (makeServer's `subscribe` option), executing each
 * event once per distinct document instead of once per subscriber where the result cannot depend
 * on the viewer: graphql-js's `subscribe` executes the selection set for every subscriber of every
 * event. The first subscriber's execution of an event (the event object is shared by every local
 * subscriber) serves the others with the same document and the same values of the variables that
 * the selection uses, executed with a viewer-blind context. The source stream (authorization,
 * topics) is still made per subscriber by the field's own `subscribe`. Other documents are
 * executed per subscriber, as graphql-js does.
 *
 * @param declared - the modules' viewer-independent fields (src/shared/viewer-independence.ts).
 * @returns `subscribe(args)`: the results, or the result with the errors of a failed subscribe
 *   (as graphql-js's `subscribe`).
 */
export function createSharedSubscribe(schema: GraphQLSchema, declared: readonly ViewerIndependentFields[]) {
  const independentFields = indexFields(declared);
  const plans = new WeakMap<DocumentNode, Plan>();
  const shared = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();

  return async (args: ExecutionArgs): Promise<ExecutionResult | SubscriptionEvents> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    let plan = plans.get(args.document);
    if (!plan) plans.set(args.document, (plan = planFor(schema, args, independentFields)));
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

/** The declarations by type name, each with `__typename`. */
function indexFields(declared: readonly ViewerIndependentFields[]): IndependentFields {
  const byType = new Map<string, Set<string>>();
  for (const { typeName, fields } of declared) {
    let set = byType.get(typeName);
    if (!set) byType.set(typeName, (set = new Set(['__typename'])));
    for (const field of fields) set.add(field);
  }
  return byType;
}

function planFor(schema: GraphQLSchema, args: ExecutionArgs, fields: IndependentFields): Plan {
  const operation = getOperationAST(args.document, args.operationName);
  const root = schema.getSubscriptionType();
  const field = operation?.selectionSet.selections[0];
  const fragments = Object.fromEntries(
    args.document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const variables = new Set<string>();
  let shareable = false;
  if (
    operation &&
    root &&
    operation.selectionSet.selections.length === 1 &&
    field?.kind === Kind.FIELD &&
    field.selectionSet
  ) {
    const type = getNamedType(root.getFields()[field.name.value]?.type);
    shareable = isObjectType(type) && independent(type, field.selectionSet, fragments, fields, variables);
  }
  return { key: `${++nextPlanId}|`, shareable, variables: [...variables] };
}

/** Whether every field selected under `type` is viewer-independent; collects the variables used. */
function independent(
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  fields: IndependentFields,
  variables: Set<string>,
): boolean {
  return selectionSet.selections.every((selection) => {
    for (const directive of selection.directives ?? []) {
      for (const arg of directive.arguments ?? [])
        if (arg.value.kind === Kind.VARIABLE) variables.add(arg.value.name.value);
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments[selection.name.value];
      return (
        !!fragment &&
        fragment.typeCondition.name.value === type.name &&
        independent(type, fragment.selectionSet, fragments, fields, variables)
      );
    }
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      return (
        (!selection.typeCondition || selection.typeCondition.name.value === type.name) &&
        independent(type, selection.selectionSet, fragments, fields, variables)
      );
    }
    if (!fields.get(type.name)?.has(selection.name.value) || selection.arguments?.length) return false;
    if (!selection.selectionSet) return true;
    const child = getNamedType(type.getFields()[selection.name.value]?.type);
    return isObjectType(child) && independent(child, selection.selectionSet, fragments, fields, variables);
  });
}
