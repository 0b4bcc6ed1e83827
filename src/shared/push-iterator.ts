/** Ends a {@link pushIterator}: call it to stop (optionally with an error for the consumer); await it to learn when it stopped. */
export type Stop = ((error?: unknown) => void) & Promise<void>;

/**
 * An async iterator fed by pushes, for subscriptions built on callbacks (the Repeater pattern,
 * repeaterjs/repeater, reduced to what Parley uses). `executor` starts on the first `next()`;
 * `push` resolves when the consumer has taken the value (back-pressure per subscriber); the
 * executor learns of `return()` by awaiting `stop`, and should then clean up and resolve.
 * An error passed to `stop` (or thrown by the executor) rejects the consumer's next `next()`
 * once the values pushed before it are taken.
 */
export function pushIterator<T>(executor: (push: (value: T) => Promise<void>, stop: Stop) => Promise<void>): AsyncIterableIterator<T> {
  const buffer: Array<{ value: T; taken: () => void }> = [];
  let waiting: ((result: IteratorResult<T>) => void) | null = null;
  let failWaiting: ((error: unknown) => void) | null = null;
  let started = false;
  let stopped = false;
  let failure: { error: unknown } | null = null;
  let resolveStop!: () => void;
  const stopPromise = new Promise<void>((resolve) => (resolveStop = resolve));

  const finish = (error?: unknown) => {
    if (stopped) return;
    stopped = true;
    if (error !== undefined) failure = { error };
    resolveStop();
    for (const item of buffer.splice(0)) item.taken();
    if (waiting) {
      if (failure) failWaiting!(failure.error);
      else waiting({ value: undefined, done: true });
      waiting = failWaiting = null;
    }
  };
  const stop = Object.assign((error?: unknown) => finish(error), {
    then: stopPromise.then.bind(stopPromise),
    catch: stopPromise.catch.bind(stopPromise),
    finally: stopPromise.finally.bind(stopPromise),
    [Symbol.toStringTag]: 'Promise',
  }) as Stop;

  const push = (value: T): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (waiting) {
      const deliver = waiting;
      waiting = failWaiting = null;
      deliver({ value, done: false });
      return Promise.resolve();
    }
    return new Promise<void>((taken) => buffer.push({ value, taken }));
  };

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (!started) {
        started = true;
        executor(push, stop).then(
          () => finish(),
          (err: unknown) => finish(err ?? new Error('subscription failed')),
        );
      }
      const item = buffer.shift();
      if (item) {
        item.taken();
        return Promise.resolve({ value: item.value, done: false });
      }
      if (stopped) {
        if (failure) {
          const { error } = failure;
          failure = null;
          return Promise.reject(error);
        }
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => {
        waiting = resolve;
        failWaiting = reject;
      });
    },
    return() {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
  };
}
