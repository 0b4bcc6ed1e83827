/** Ends a {@link pushIterator}: call it to stop (optionally with an error for the consumer); await it to learn when it stopped. */
export type Stop = ((error?: unknown) => void) & Promise<void>;

/** The consumer of a {@link PushStream} in push mode (see {@link PushStream.pipe}). */
export interface Sink<T> {
  /**
   * Called once per value, in push order. A returned promise holds the following values back
   * until it settles (a rejection ends the stream with that error).
   */
  next(value: T): void | Promise<void>;
  /** Called once when the stream has ended, with its error if it failed. */
  end(error?: unknown): void;
}

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
 * Subclasses implement {@link start} (called on the first `next()` or {@link pipe}) and
 * {@link cleanUp} (called once when the stream ends, whoever ends it). A value pushed while no
 * one waits is buffered; `push` resolves when the consumer has taken it (back-pressure per
 * subscriber). {@link end} with an error rejects the consumer's next `next()` (or the promise of
 * {@link pipe}); values still buffered when the stream ends are dropped.
 *
 * Two ways to consume: as an async iterator (graphql-js, `for await`), or in push mode through
 * {@link pipe}, where each value is handed to a callback as it is pushed, without a promise per
 * value (the WebSocket server's delivery path, see src/server/ws-connection.ts).
 */
export abstract class PushStream<T> implements AsyncIterableIterator<T> {
  private buffer: Array<Buffered<T>> | null = null;
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | null = null;
  private sink: Sink<T> | null = null;
  private sinkBusy = false;
  private started = false;
  /** Set once the stream has ended; reads as `true` from then on. */
  protected stopped = false;
  private failure: { error: unknown } | null = null;

  /** Called once, on the first `next()` or {@link pipe}: subscribe here. A throw ends the stream with that error. */
  protected abstract start(): void;

  /** Called once when the stream ends (consumer's `return()`, {@link end}, or a failure): undo subscriptions. */
  protected abstract cleanUp(): void;

  /**
   * Hands a value to the consumer, or buffers it.
   * @returns resolved once the consumer has taken the value (at once after the stream ended).
   */
  push(value: T): Promise<void> {
    if (this.stopped) return DONE;
    if (this.sink) {
      if (this.sinkBusy || this.buffer?.length) return this.bufferValue(value);
      this.toSink(value);
      return DONE;
    }
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
    if (!this.sinkBusy) this.settlePipe();
    this.cleanUp();
  }

  /**
   * Push mode: hands every value from now on (buffered ones first) to `sink.next`, in order, each
   * after the promise the previous call returned has settled, then calls `sink.end` once the
   * stream has ended. No promise is made per value or per stream.
   */
  pipe(sink: Sink<T>): void {
    this.sink = sink;
    this.startOnce();
    this.drainBuffer();
    if (this.stopped && !this.sinkBusy) this.settlePipe();
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

  /** Calls the sink; while its promise is pending, further values wait in the buffer. */
  private toSink(value: T): void {
    let result: void | Promise<void>;
    try {
      result = this.sink!.next(value);
    } catch (err) {
      this.end(err);
      return;
    }
    if (!result) return;
    this.sinkBusy = true;
    result.then(
      () => {
        this.sinkBusy = false;
        if (this.stopped) this.settlePipe();
        else this.drainBuffer();
      },
      (err: unknown) => {
        this.sinkBusy = false;
        if (!this.stopped) return this.end(err);
        this.failure ??= { error: err };
        this.settlePipe();
      },
    );
  }

  private drainBuffer(): void {
    while (this.sink && !this.sinkBusy && !this.stopped && this.buffer?.length) {
      const item = this.buffer.shift()!;
      item.taken?.();
      this.toSink(item.value);
    }
  }

  /** Tells a piped consumer that the stream has ended (once). */
  private settlePipe(): void {
    const sink = this.sink;
    if (!sink) return;
    this.sink = null;
    if (this.failure) sink.end(this.takeFailure());
    else sink.end();
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
