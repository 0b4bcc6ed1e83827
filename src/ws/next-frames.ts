import type { ExecutionResult, FormattedExecutionResult } from 'graphql';

/**
 * The `next` frames of subscription results (graphql-ws's protocol: `{"id","type":"next","payload"}`),
 * with each result encoded once for every subscriber that shares it: the subscribers of one event
 * share one result object where it cannot differ (src/execution/shared-subscribe.ts), so its JSON
 * and its UTF-8 bytes are made for the first of them, and every frame is that encoding behind its
 * own id. graphql-ws would `JSON.stringify` the whole frame for each subscriber, and the socket
 * encode it to UTF-8 again.
 */
export class NextFrames {
  /** What follows the id in a result's frame, as UTF-8 bytes, by result object. */
  private readonly tails = new WeakMap<ExecutionResult, Buffer>();

  constructor(
    /** The result as the client gets it (its errors formatted, as for every operation's result). */
    private readonly present: (result: ExecutionResult) => ExecutionResult | FormattedExecutionResult,
    /** Where the delivery latency of live events is observed (`parley_delivery_latency_seconds`), in seconds; null: not observed. */
    readonly deliveryLatency: { observe(seconds: number): void } | null,
  ) {}

  /** The frame of subscription `id` carrying `result`, as UTF-8 bytes (a text frame's data). */
  frame(id: string, result: ExecutionResult): Buffer {
    let tail = this.tails.get(result);
    if (tail === undefined) {
      tail = Buffer.from(`,"type":"next","payload":${JSON.stringify(this.present(result))}}`);
      this.tails.set(result, tail);
    }
    const head = `{"id":${JSON.stringify(id)}`;
    const headBytes = Buffer.byteLength(head);
    const frame = Buffer.allocUnsafe(headBytes + tail.length);
    frame.write(head, 0);
    tail.copy(frame, headBytes);
    return frame;
  }
}
