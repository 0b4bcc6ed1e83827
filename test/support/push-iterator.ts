import { PushStream } from '../../src/shared/push-stream';

/** Ends a {@link pushIterator}: call it to stop (optionally with an error); await it to learn when it stopped. */
export type Stop = ((error?: unknown) => void) & Promise<void>;

/**
 * A {@link PushStream} run by an executor function, for unit tests that drive a stream by hand
 * (the Repeater pattern): `executor` starts on the first `next()`, learns of `return()` by
 * awaiting `stop`, and its failure rejects the consumer's next `next()`.
 */
export function pushIterator<T>(
  executor: (push: (value: T) => Promise<void>, stop: Stop) => Promise<void>,
): PushStream<T> {
  return new ExecutorStream(executor);
}

class ExecutorStream<T> extends PushStream<T> {
  private resolveStop: (() => void) | null = null;

  constructor(private readonly executor: (push: (value: T) => Promise<void>, stop: Stop) => Promise<void>) {
    super();
  }

  protected start(): void {
    const stopped = new Promise<void>((resolve) => (this.resolveStop = resolve));
    if (this.stopped) this.resolveStop!();
    const stop = Object.assign((error?: unknown) => this.end(error), {
      then: stopped.then.bind(stopped),
      catch: stopped.catch.bind(stopped),
      finally: stopped.finally.bind(stopped),
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
