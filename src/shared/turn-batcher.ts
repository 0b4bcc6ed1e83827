/**
 * Gathers the items pushed within one event-loop turn and hands them to `flush` together, at most
 * `maxItems` per call: DataLoader's batching window (graphql/dataloader), applied to writes. The
 * sends whose commits resolve in one turn (one read of a pipelined PostgreSQL connection) become
 * one notification job; the rate-limit points taken in one turn become one Redis script call.
 */
export class TurnBatcher<T> {
  private items: T[] = [];
  private scheduled = false;
  private readonly inflight = new Set<Promise<void>>();

  /**
   * @param flush - writes a batch; must not reject (it logs its own failures).
   * @param maxItems - a batch this large is flushed at once, without waiting for the turn to end.
   */
  constructor(
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly maxItems: number,
  ) {}

  /** Adds an item to the current batch. */
  push(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.maxItems) this.run();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
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
