/** Where a live event keeps its commit time (a symbol: JSON and GraphQL never see it). */
const COMMITTED_AT = Symbol('parley.committedAt');

type Stamped = { [COMMITTED_AT]?: number };

/**
 * Marks `event`, one object handed to every local subscriber of a live event, as committed at
 * `ms` (ms since the epoch): where `parley_delivery_latency_seconds` starts. Set once per event;
 * the WebSocket transport reads it as each subscriber's frame is written (src/ws).
 */
export function stampCommitted<T extends object>(event: T, ms: number): T {
  (event as Stamped)[COMMITTED_AT] = ms;
  return event;
}

/** When `event` was committed (ms since the epoch), or 0 when it carries no stamp (a replayed row, a state event). */
export function committedAt(event: unknown): number {
  return (typeof event === 'object' && event !== null && (event as Stamped)[COMMITTED_AT]) || 0;
}
