const DONE: Promise<void> = Promise.resolve();
const FINISHED: IteratorResult<never> = Object.freeze({ value: undefined, done: true }) as IteratorResult<never>;

interface Buffered<T> {
  value: T;
  taken?: () => void;
}

/**
 * An async iterator fed by pushes, for subscriptions built on callbacks (the Repeater pattern of
 * repeaterjs/repeater, reduced to what Parley uses), with its state on one object and its
 * behaviour on the prototype, since an idle subscriber holds one for hours. Subscriptions extend
 * {@link LiveStream} (live-stream.ts), which adds event-bus topics and the stream observer.
 *
 * Subclasses implement {@link start} (called on the first `next()`) and {@link cleanUp} (called
 * once when the stream ends, whoever ends it). A value pushed while the consumer waits in `next()`
 * is handed over at once; one pushed while no one waits is buffered, and its `push` resolves when
 * the consumer has taken it (back-pressure per subscriber). {@link end} with an error rejects the
 * consumer's next `next()`; values still buffered when the stream ends are dropped. `return()`
 * ends the stream at once, also while a `next()` waits (graphql-ws's `makeServer` reads it with
 * `for await` and calls `return()` when the client completes the subscription or leaves).
 */
export abstract class PushStream<T> implements AsyncIterableIterator<T> {
  private buffer: Array<Buffered<T>> | null = null;
  // The consumer waiting in next(): its promise's resolve function and how it wants the value, as
  // fields rather than one more object (an idle subscription waits there for hours). Not its
  // reject function: it is rejected by resolving it with a rejected promise, and the function
  // not kept is ~56 bytes less per waiting subscriber.
  private resolveNext: ((result: IteratorResult<unknown> | Promise<IteratorResult<unknown>>) => void) | null = null;
  private mapper: ValueMapper<T, unknown> | null = null;
  /** Takes every value as it is pushed, once {@link drainTo} was called. */
  private sink: ValueSink<T> | null = null;
  private started = false;
  /** Set once the stream has ended; reads as `true` from then on. */
  protected stopped = false;
  private failure: { error: unknown } | null = null;

  /** Called once, on the first `next()`: subscribe here. A throw ends the stream with that error. */
  protected abstract start(): void;

  /** Called once when the stream ends (consumer's `return()`, {@link end}, or a failure): undo subscriptions. */
  protected abstract cleanUp(): void;

  /**
   * Hands a value to the consumer, or buffers it.
   * @returns resolved once the consumer has taken the value (at once after the stream ended).
   */
  push(value: T): Promise<void> {
    if (this.stopped) return DONE;
    const sink = this.sink;
    if (sink) {
      this.give(sink, value);
      return DONE;
    }
    const resolve = this.resolveNext;
    if (resolve) {
      const mapper = this.mapper;
      this.resolveNext = this.mapper = null;
      const result = this.resultOf(mapper, value);
      resolve(result instanceof Failure ? Promise.reject(result.error) : result);
      return DONE;
    }
    return this.bufferValue(value);
  }

  /** Ends the stream; with an error, the consumer receives it. Later calls change nothing. */
  end(error?: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    if (error !== undefined) this.failure = { error };
    const buffer = this.buffer;
    this.buffer = null;
    if (buffer) for (const item of buffer) item.taken?.();
    const resolve = this.resolveNext;
    const sink = this.sink;
    this.resolveNext = this.mapper = this.sink = null;
    if (resolve) resolve(this.outcome(sink));
    this.cleanUp();
  }

  next(): Promise<IteratorResult<T>> {
    return this.nextMapped<T>(null);
  }

  /**
   * `next()` whose value is `mapper.map(value)` (awaited when it returns a promise): a consumer
   * that transforms every value (graphql execution, see src/execution/shared-subscribe.ts) waits on
   * one promise instead of a second one chained with a callback. A throw or rejection of `map`
   * rejects this `next()` and ends the stream: a consumer stops reading after a rejected `next()`
   * without calling `return()` (graphql-ws drops the subscription), so the stream would otherwise
   * keep its subscriptions; graphql-js's mapAsyncIterator closes its source the same way.
   */
  nextMapped<R>(mapper: ValueMapper<T, R> | null): Promise<IteratorResult<R>> {
    this.startOnce();
    const item = this.buffer?.shift();
    if (item) {
      item.taken?.();
      const result = this.resultOf(mapper, item.value);
      return result instanceof Failure ? Promise.reject(result.error) : Promise.resolve(result);
    }
    if (this.stopped) return this.failure ? Promise.reject(this.takeFailure()) : Promise.resolve(FINISHED);
    return new Promise<IteratorResult<R>>((resolve) => {
      this.resolveNext = resolve as (result: IteratorResult<unknown> | Promise<IteratorResult<unknown>>) => void;
      this.mapper = mapper;
    });
  }

  /**
   * Hands every value to `sink.take` as it is pushed, in the same call, instead of one `next()`
   * per value: a consumer that writes each value somewhere (src/execution/shared-subscribe.ts)
   * then costs no promise per value. Values buffered before go first. A throw of `take` ends the
   * stream with that error. Call it once, instead of `next()`.
   * @returns settles when the stream ends, after the last `take` and what `sink.ended` waits for:
   *   FINISHED, or rejected with the stream's error.
   */
  drainTo(sink: ValueSink<T>): Promise<IteratorResult<never>> {
    this.startOnce();
    const buffer = this.buffer;
    this.buffer = null;
    for (const item of buffer ?? []) {
      item.taken?.();
      if (!this.stopped) this.give(sink, item.value);
    }
    if (this.stopped) return Promise.resolve(this.outcome(sink));
    this.sink = sink;
    return new Promise<IteratorResult<never>>((resolve) => {
      this.resolveNext = resolve as (result: IteratorResult<unknown> | Promise<IteratorResult<unknown>>) => void;
    });
  }

  /** How the consumer's wait ends: FINISHED, or rejected with the failure, once `sink` has finished what it took. */
  private outcome(sink: ValueSink<T> | null): IteratorResult<never> | Promise<IteratorResult<never>> {
    const failed = this.failure !== null;
    const error = failed ? this.takeFailure() : undefined;
    const ending = (): IteratorResult<never> | Promise<IteratorResult<never>> =>
      failed ? Promise.reject(error) : FINISHED;
    const busy = sink?.ended?.() ?? null;
    return busy === null ? ending() : busy.then(ending);
  }

  private give(sink: ValueSink<T>, value: T): void {
    try {
      sink.take(value);
    } catch (error) {
      this.end(error ?? new Error('subscription failed'));
    }
  }

  /** `mapper`'s result for `value`; a failure (thrown, or a rejection later) ends the stream. */
  private resultOf<R>(
    mapper: ValueMapper<T, R> | null,
    value: T,
  ): IteratorResult<R> | Promise<IteratorResult<R>> | Failure {
    let result: IteratorResult<R> | Promise<IteratorResult<R>>;
    try {
      result = mapped(mapper, value);
    } catch (error) {
      this.end();
      return new Failure(error);
    }
    if (!(result instanceof Promise)) return result;
    return result.catch((error: unknown) => {
      this.end();
      throw error;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve(FINISHED);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private startOnce(): void {
    if (this.started) return;
    this.started = true;
    try {
      this.start();
    } catch (err) {
      this.end(err ?? new Error('subscription failed'));
    }
  }

  private bufferValue(value: T): Promise<void> {
    return new Promise<void>((taken) => (this.buffer ??= []).push({ value, taken }));
  }

  private takeFailure(): unknown {
    const { error } = this.failure!;
    this.failure = null;
    return error;
  }
}

/** A mapper's synchronous throw, told apart from a result. */
class Failure {
  constructor(readonly error: unknown) {}
}

/** Takes each value of a {@link PushStream} as it is pushed (see {@link PushStream.drainTo}). */
export interface ValueSink<T> {
  take(value: T): void;
  /** Called once when the stream ends; `drainTo`'s promise settles after the promise it returns (null: at once). */
  ended?(): Promise<void> | null;
}

/** Transforms each value of a {@link PushStream} for {@link PushStream.nextMapped}. */
export interface ValueMapper<T, R> {
  map(value: T): R | Promise<R>;
}

/** The iterator result of `value` as `mapper` wants it (the value itself without a mapper). */
function mapped<T, R>(mapper: ValueMapper<T, R> | null, value: T): IteratorResult<R> | Promise<IteratorResult<R>> {
  if (!mapper) return { value: value as unknown as R, done: false };
  const result = mapper.map(value);
  if (typeof (result as Promise<R> | null)?.then !== 'function') return { value: result as R, done: false };
  return (result as Promise<R>).then((value) => ({ value, done: false }));
}
