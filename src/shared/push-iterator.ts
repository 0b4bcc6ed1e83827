/** Ends a {@link pushIterator}: call it to stop (optionally with an error for the consumer); await it to learn when it stopped. */
export type Stop = ((error?: unknown) => void) & Promise<void>;

const DONE: Promise<void> = Promise.resolve();
const FINISHED: IteratorResult<never> = Object.freeze({ value: undefined, done: true }) as IteratorResult<never>;

interface Buffered<T> {
  value: T;
  taken?: () => void;
}

/**
 * An async iterator fed by pushes, for subscriptions built on callbacks (the Repeater pattern,
 * repeaterjs/repeater, reduced to what Parley uses), with its state on one object and its
 * behaviour on the prototype: an idle subscriber holds one of these for hours, and the closure
 * version cost ~35 closures and a dozen promises per subscription (heap snapshot of the
 * connections benchmark).
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
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | null = null;
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
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
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
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) {
      if (this.failure) waiting.reject(this.takeFailure());
      else waiting.resolve(FINISHED);
    }
    this.cleanUp();
  }

  next(): Promise<IteratorResult<T>> {
    this.startOnce();
    const item = this.buffer?.shift();
    if (item) {
      item.taken?.();
      return Promise.resolve({ value: item.value, done: false });
    }
    if (this.stopped) return this.failure ? Promise.reject(this.takeFailure()) : Promise.resolve(FINISHED);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
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

/** A {@link PushStream} run by an executor function (see {@link pushIterator}). */
class ExecutorStream<T> extends PushStream<T> {
  private resolveStop: (() => void) | null = null;

  constructor(private readonly executor: (push: (value: T) => Promise<void>, stop: Stop) => Promise<void>) {
    super();
  }

  protected start(): void {
    const stopPromise = new Promise<void>((resolve) => (this.resolveStop = resolve));
    if (this.stopped) this.resolveStop!();
    const stop = Object.assign((error?: unknown) => this.end(error), {
      then: stopPromise.then.bind(stopPromise),
      catch: stopPromise.catch.bind(stopPromise),
      finally: stopPromise.finally.bind(stopPromise),
      [Symbol.toStringTag]: 'Promise',
    }) as Stop;
    this.executor((value) => this.push(value), stop).then(
      () => this.end(),
      (err: unknown) => this.end(err ?? new Error('subscription failed')),
    );
  }

  protected cleanUp(): void {
    this.resolveStop?.();
  }
}

/**
 * An async iterator fed by pushes, for subscriptions built on callbacks. `executor` starts on the
 * first `next()`; `push` resolves when the consumer has taken the value (back-pressure per
 * subscriber); the executor learns of `return()` by awaiting `stop`, and should then clean up and
 * resolve. An error passed to `stop` (or thrown by the executor) rejects the consumer's next
 * `next()`. For long-lived subscriptions held by many sockets, extend {@link PushStream} instead
 * (no closures per instance).
 */
export function pushIterator<T>(executor: (push: (value: T) => Promise<void>, stop: Stop) => Promise<void>): PushStream<T> {
  return new ExecutorStream(executor);
}
