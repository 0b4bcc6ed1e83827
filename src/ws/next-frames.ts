import type { ExecutionResult, FormattedExecutionResult } from 'graphql';

/**
 * The `next` frames of subscription results (graphql-ws's protocol: `{"id","type":"next","payload"}`),
 * as whole WebSocket frames, with each result encoded once for every subscriber that shares it:
 * the subscribers of one event share one result object where it cannot differ
 * (src/execution/shared-subscribe.ts), so its JSON and its UTF-8 bytes are made for the first of
 * them, and every frame is a header, the subscriber's id and those bytes. graphql-ws would
 * `JSON.stringify` the whole frame for each subscriber, the socket encode it to UTF-8 again, and
 * ws frame it.
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

  /**
   * The frame of subscription `id` carrying `result`: one final, unmasked text frame (RFC 6455
   * section 5.2: FIN and opcode 1, then the payload length in 7, 7+16 or 7+64 bits), header and
   * payload in one buffer.
   */
  frame(id: string, result: ExecutionResult): Buffer {
    let tail = this.tails.get(result);
    if (tail === undefined) {
      tail = Buffer.from(`,"type":"next","payload":${JSON.stringify(this.present(result))}}`);
      this.tails.set(result, tail);
    }
    const head = `{"id":${JSON.stringify(id)}`;
    const headBytes = Buffer.byteLength(head);
    const length = headBytes + tail.length;
    const offset = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(offset + length);
    frame[0] = FIN_TEXT;
    if (offset === 2) frame[1] = length;
    else if (offset === 4) {
      frame[1] = 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 127;
      frame.writeUInt32BE(0, 2);
      frame.writeUInt32BE(length, 6);
    }
    frame.write(head, offset);
    tail.copy(frame, offset + headBytes);
    return frame;
  }
}

/** The first byte of a frame that is a whole text message: FIN set, opcode 1 (text). */
const FIN_TEXT = 0x81;
