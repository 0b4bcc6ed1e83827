import type { handlers as LoadHandlers } from '../workers/graphql-load.worker';
import type { handlers as SubscriberHandlers } from '../workers/subscribers.worker';
import { sleep } from './stats';
import type { WorkerProcess } from './workers';

/** A load-generator process running graphql-load.worker.ts. */
export type LoadWorker = WorkerProcess<typeof LoadHandlers>;
/** A receiver process running subscribers.worker.ts. */
export type SubscriberWorker = WorkerProcess<typeof SubscriberHandlers>;

/**
 * Waits until every receiver is really subscribed: each sender sends a probe message, repeatedly,
 * until every receiver has had one. A subscription's `subscribe` completes on the server some time
 * after the client sent it, and nothing tells the client when; measuring before would count the
 * set-up as latency, or lose messages sent before it.
 *
 * @throws when some receivers still have no probe after `attempts` rounds.
 */
export async function waitSubscribed(
  senders: LoadWorker,
  receivers: readonly SubscriberWorker[],
  attempts = 30,
): Promise<void> {
  await Promise.all(receivers.map((r) => r.call('resetProbes', undefined)));
  let last: Array<{ probed: number; of: number }> = [];
  for (let i = 0; i < attempts; i++) {
    await senders.call('sendEach', undefined);
    last = await Promise.all(receivers.map((r) => r.call('allProbed', { timeoutMs: 1000 })));
    if (last.every((s) => s.probed === s.of)) {
      // let the last probes' stragglers land before measuring
      await sleep(200);
      return;
    }
  }
  throw new Error(`receivers not subscribed after ${attempts} probes: ${JSON.stringify(last)}`);
}
