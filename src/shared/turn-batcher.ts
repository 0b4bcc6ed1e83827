/**
 * Runs `close` when a batch opened now should end: after `lingerMs` ms, or at the end of this
 * event-loop turn (`setImmediate`, after the I/O callbacks of the turn) when `lingerMs` is 0.
 */
export function closeBatchAfter(lingerMs: number, close: () => void): void {
  if (lingerMs > 0) setTimeout(close, lingerMs);
  else setImmediate(close);
}

/**
 * Gathers the items pushed within one event-loop turn and hands them to `flush` together, at most
 * `maxItems` per call: DataLoader's batching window (graphql/dataloader), applied to writes whose
 * callers wait for no answer. The sends whose commits resolve in one turn (one read of a
 * pipelined PostgreSQL connection) become one notification batch. With `lingerMs` the batch stays
 * open that long after its first item instead of one turn. Where each caller needs its own answer
 * (rate-limit points, set-up reads, presence transitions), the same window is a DataLoader:
 * `turnBatchedLoader` in src/shared/loader.ts.
 */
export class TurnBatcher<T> {
  private items: T[] = [];
  private scheduled = false;
  private readonly inflight = new Set<Promise<void>>();

  /**
   * @param flush - writes a batch; must not reject (it logs its own failures).
   * @param maxItems - a batch this large is flushed at once, without waiting for the turn to end.
   * @param lingerMs - how long a batch stays open after its first item, ms; 0 (the default) closes it
   *   at the end of the turn. Kafka's producer calls this `linger.ms`: a few ms of latency for
   *   fewer, larger writes.
   */
  constructor(
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly maxItems: number,
    private readonly lingerMs = 0,
  ) {}

  /** Adds an item to the current batch. */
  push(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.maxItems) this.run();
    else if (!this.scheduled) {
      this.scheduled = true;
      closeBatchAfter(this.lingerMs, () => {
        this.scheduled = false;
        this.run();
      });
    }
  }

  /** Flushes the pending items and waits until every flush begun has ended. */
  async drain(): Promise<void> {
    this.run();
    await Promise.all(this.inflight);
  }

  private run(): void {
    if (!this.items.length) return;
    const items = this.items;
    this.items = [];
    const flushing = this.flush(items).finally(() => this.inflight.delete(flushing));
    this.inflight.add(flushing);
  }
}
