import type { EventBus } from '../../pubsub/event-bus';
import type { Logger } from '../../shared/logger';
import type { ConversationsService } from '../conversations/conversations.service';
import { TYPING_INTERVAL_MS, type TypingStore } from './typing.store';
import { conversationTypingTopic, type TypingPayload } from './typing.topics';

/** Overdue rechecks handled per sweep tick. */
const SWEEP_LIMIT = 1000;

/**
 * Typing indicators: ephemeral state in the {@link TypingStore} (Redis or in-process, never
 * PostgreSQL), events on the conversation's typing topic. This instance keeps a timer for each
 * state it last touched, to publish a held-back change or the `false` of an expired state on
 * time; states whose instance died are picked up by the sweep.
 */
export class TypingService {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly bus: EventBus,
    private readonly store: TypingStore,
    private readonly conversations: ConversationsService,
    private readonly log: Logger,
  ) {}

  /**
   * Starts the sweep for states left behind by a dead instance, every `sweepMs` (its failures
   * are logged). Resolves at once.
   */
  async start(sweepMs: number): Promise<void> {
    this.sweeper = setInterval(() => {
      this.store
        .sweep(TYPING_INTERVAL_MS, SWEEP_LIMIT)
        .then((changes) => Promise.all(changes.map((c) => this.publish(c.conversationId, c.userId, c.isTyping))))
        .catch((err: unknown) => this.log.warn({ err }, 'typing sweep failed'));
    }, sweepMs);
    this.sweeper.unref();
  }

  /** Stops the sweep and this instance's pending rechecks (held-back changes are not published). */
  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * `setTyping`: `true` (re)starts typing for 6 s, `false` ends it. At most one event per user per
   * conversation per second is published; extra calls succeed without publishing.
   * @returns `true` (the call was accepted).
   * @throws DomainError BAD_USER_INPUT for a malformed id; NOT_FOUND / FORBIDDEN when the
   *   conversation does not exist / the viewer is not a participant.
   */
  async setTyping(userId: string, conversationId: string, isTyping: boolean): Promise<boolean> {
    const { id } = await this.conversations.requireParticipant(userId, conversationId);
    await this.apply(id, userId, isTyping);
    return true;
  }

  private async apply(conversationId: string, userId: string, isTyping: boolean | null): Promise<void> {
    const decision = await this.store.update(conversationId, userId, isTyping);
    if (decision.publish !== null) await this.publish(conversationId, userId, decision.publish);
    const key = `${conversationId}:${userId}`;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (decision.recheckInMs === null) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.apply(conversationId, userId, null).catch((err: unknown) =>
        this.log.error({ err }, 'typing recheck failed'),
      );
    }, decision.recheckInMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  private async publish(conversationId: string, userId: string, isTyping: boolean): Promise<void> {
    const payload: TypingPayload = { conversationId, userId, isTyping };
    await this.bus.publish(conversationTypingTopic(conversationId), payload);
  }
}
