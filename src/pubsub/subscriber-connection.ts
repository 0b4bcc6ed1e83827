import type Redis from 'ioredis';
import type { Logger } from '../shared/logger';

/** Most channels in one UNSUBSCRIBE command. */
const UNSUBSCRIBE_CHUNK = 1000;

/** One SUBSCRIBE or UNSUBSCRIBE asked for, not sent yet. */
interface Pending {
  subscribe: boolean;
  channel: string;
  /** RedisPubSub's node-style callback of a SUBSCRIBE. */
  done?: (err: Error | null) => void;
}

/**
 * The view of the subscriber connection that RedisPubSub is given. Its SUBSCRIBEs and
 * UNSUBSCRIBEs go through ioredis's own `subscribe` and `unsubscribe`, so the channels are in the
 * set it subscribes to again after a reconnect (`autoResubscribe`), and never while the connection
 * is in its handshake (status `connect`): ioredis writes a SUBSCRIBE at once then (SUBSCRIBE is
 * allowed while Redis loads), its reply puts the connection in subscriber mode, the ready check's
 * INFO is refused ("Connection in subscriber mode, only subscriber commands may be used"), and
 * ioredis connects again without that channel, since it keeps the channels of a connection that
 * was ready only. Those asked for during the handshake wait for `ready` (or `close`), and so do
 * those asked for after them, to keep their order; they are then sent as one command per run of
 * the same kind. In any other state than `connect` ioredis's own policy applies: written when
 * ready, else queued until ready or refused at once, as the connection's `enableOfflineQueue` says.
 *
 * UNSUBSCRIBEs, which nobody waits for, are gathered until the end of the event-loop turn (or the
 * next SUBSCRIBE, to keep the order) and sent as one command per {@link UNSUBSCRIBE_CHUNK}
 * channels: when thousands of sockets close at once, one command per channel cost a write each
 * and ran past the command timeout (bench/README.md, "Mass disconnect").
 *
 * RedisPubSub.unsubscribe also fires UNSUBSCRIBE and PUNSUBSCRIBE without handling their promises
 * (davidyaha/graphql-redis-subscriptions#593), so a client leaving while Redis is unreachable
 * would raise an unhandled rejection, which ends a Node process. This view logs those failures
 * instead, but for a connection closed for good (it has no subscriptions left), and skips
 * PUNSUBSCRIBE: Parley never subscribes to patterns (#654).
 *
 * @param subscriber - the connection used only for pub/sub (Redis forbids other commands on it).
 * @param log - told of a failed UNSUBSCRIBE (warn).
 * @returns a proxy of `subscriber` for RedisPubSub's `subscriber` option.
 */
export function subscriberView(subscriber: Redis, log?: Logger): Redis {
  const pending: Pending[] = [];
  let handshake = false;
  let flushAtTurnEnd = false;

  const send = (run: Pending[]) => {
    const channels = run.map((op) => op.channel);
    if (run[0].subscribe) {
      subscriber.subscribe(...channels).then(
        () => run.forEach((op) => op.done?.(null)),
        (err: Error) => run.forEach((op) => op.done?.(err)),
      );
      return;
    }
    for (let i = 0; i < channels.length; i += UNSUBSCRIBE_CHUNK) {
      const chunk = channels.slice(i, i + UNSUBSCRIBE_CHUNK);
      subscriber.unsubscribe(...chunk).catch((err: unknown) => {
        // Closed for good (the instance stopping): no subscription is left to end.
        if (subscriber.status === 'end') return;
        log?.warn({ err, channels: chunk.length, first: chunk[0] }, 'Redis UNSUBSCRIBE failed');
      });
    }
  };

  const afterHandshake = () => {
    subscriber.off('ready', afterHandshake).off('close', afterHandshake);
    handshake = false;
    flush();
  };

  function flush() {
    if (handshake) return;
    if (subscriber.status === 'connect') {
      handshake = true;
      subscriber.once('ready', afterHandshake).once('close', afterHandshake);
      return;
    }
    const ops = pending.splice(0);
    for (let i = 0; i < ops.length;) {
      let j = i + 1;
      while (j < ops.length && ops[j].subscribe === ops[i].subscribe) j++;
      send(ops.slice(i, j));
      i = j;
    }
  }

  const queue = (op: Pending) => {
    pending.push(op);
    if (op.subscribe) flush();
    else if (!flushAtTurnEnd) {
      flushAtTurnEnd = true;
      setImmediate(() => {
        flushAtTurnEnd = false;
        flush();
      });
    }
  };

  return new Proxy(subscriber, {
    get(target, property, receiver) {
      if (property === 'punsubscribe') return async () => 0;
      if (property === 'subscribe') {
        // RedisPubSub's form: one channel and a node-style callback.
        return (channel: string, done?: (err: Error | null) => void) => queue({ subscribe: true, channel, done });
      }
      if (property === 'unsubscribe') {
        return (...channels: string[]) => {
          for (const channel of channels) queue({ subscribe: false, channel });
          return Promise.resolve(channels.length);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
