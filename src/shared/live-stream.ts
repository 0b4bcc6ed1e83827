import { PushStream } from './push-stream';

/** The subscriptions Parley streams, as the observer names them. */
export type StreamKind = 'messageAdded' | 'presenceChanged' | 'typing' | 'readReceipt' | 'notificationAdded';

/**
 * Told when a subscription's stream is live (its topics are subscribed and its starting
 * positions read: an event published from then on is delivered) and when a live stream ends.
 * The metrics count streams with it; tests wait on it, as graphql-ws has no "subscribed" message.
 */
export interface StreamObserver {
  ready(kind: StreamKind, viewerId: string): void;
  ended(kind: StreamKind, viewerId: string): void;
  /** An event was handed to a subscriber's stream; `createdAt` is when it was stored (delivery latency). */
  delivered?(kind: StreamKind, createdAt: Date): void;
}

/** An observer that calls each of `observers`. */
export function observeAll(observers: readonly StreamObserver[]): StreamObserver {
  return {
    ready: (kind, viewerId) => observers.forEach((o) => o.ready(kind, viewerId)),
    ended: (kind, viewerId) => observers.forEach((o) => o.ended(kind, viewerId)),
    delivered: (kind, createdAt) => observers.forEach((o) => o.delivered?.(kind, createdAt)),
  };
}

/** The part of the event bus (src/pubsub) a stream uses. */
export interface TopicSource {
  /** Calls `listener` for each payload published on `topic` from now on; resolves once heard. */
  subscribe(topic: string, listener: (payload: never) => void, options?: { local?: boolean }): Promise<unknown>;
  /** Undoes one subscribe of `listener` to `topic` (also while it is under way). */
  unsubscribe(topic: string, listener: (payload: never) => void): Promise<void>;
}

/** What every stream of one kind shares (one object for all of them). */
export interface LiveStreamDeps {
  bus: TopicSource;
  observer: StreamObserver;
}

/**
 * The stream of one subscription: events from event-bus topics, pushed to graphql-ws. Every
 * Parley subscription (messages, presence, typing, read receipts) is one of these.
 *
 * A subclass subscribes its topics with {@link follow} in {@link open} (and later, as the viewer
 * joins conversations), handles their payloads in {@link onEvent} (one listener for all of its
 * topics, payloads told apart by their shape), and lists what it follows in {@link followed}, from
 * its own state, for the clean-up. Once {@link open} resolves the observer is told the stream is
 * live; when it ends, every topic is unsubscribed.
 */
export abstract class LiveStream<T> extends PushStream<T> {
  private opening: Promise<void> | null = null;
  private live = false;
  /** The listener of every topic of this stream. */
  protected readonly listener = (payload: object): void => this.onEvent(payload);

  constructor(
    protected readonly deps: LiveStreamDeps,
    private readonly kind: StreamKind,
    protected readonly viewerId: string,
  ) {
    super();
  }

  /** Subscribes the topics (with {@link follow}) and reads the starting positions. A rejection ends the stream. */
  protected abstract open(): Promise<void>;

  /** A payload published on one of the followed topics. */
  protected abstract onEvent(payload: object): void;

  /** Every topic followed so far (for unsubscribing). */
  protected abstract followed(): Iterable<string>;

  /** Subscribes {@link listener} to `topic`; resolves once the bus hears it. Nothing after the stream ended. */
  protected follow(topic: string, options?: { local?: boolean }): Promise<unknown> {
    if (this.stopped) return Promise.resolve();
    return this.deps.bus.subscribe(topic, this.listener, options);
  }

  protected start(): void {
    const opening = this.open().then(
      () => {
        // An open stream keeps no settled promise (an idle subscription is held for hours).
        if (this.opening === opening) this.opening = null;
        if (this.stopped) return;
        this.live = true;
        this.deps.observer.ready(this.kind, this.viewerId);
      },
      (err: unknown) => {
        if (this.opening === opening) this.opening = null;
        this.end(err ?? new Error('subscription failed'));
      },
    );
    this.opening = opening;
  }

  protected cleanUp(): void {
    if (this.live) this.deps.observer.ended(this.kind, this.viewerId);
    this.live = false;
    void this.release();
  }

  /** Settles when no work of the stream that may still {@link follow} a topic is under way. */
  protected idle(): Promise<unknown> {
    return this.opening ?? Promise.resolve();
  }

  private async release(): Promise<void> {
    await this.idle();
    await Promise.all(Array.from(this.followed(), (topic) => this.deps.bus.unsubscribe(topic, this.listener)));
  }
}
