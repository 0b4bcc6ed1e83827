import type { EventBus } from '../../pubsub/event-bus';
import type { Logger } from '../../shared/logger';
import type { ConversationsService } from '../conversations/conversations.service';
import { conversationMessagesTopic, conversationOfMessagesTopic, type MessageTailPayload } from './messages.topics';

/**
 * Finds messages whose live event never reached this instance, without waiting for the next
 * message of the conversation (which would reveal the gap): it reads, in one query, the newest
 * seq of every conversation whose messages topic has local subscribers, and hands each topic's
 * listeners a {@link MessageTailPayload}; a stream whose cursor is below fills the gap from
 * PostgreSQL (message-stream.ts). Runs every `periodMs` and after each pub/sub reconnect (the
 * events published during the outage are lost). The idea is Centrifugo's periodic stream
 * position check. The topics come from the event bus's own index, so an idle subscription costs
 * no memory here.
 */
export class MessageTailCheck {
  private timer: NodeJS.Timeout | null = null;
  private stopReconnects: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  /** @param periodMs - ms between checks; 0 checks only after a reconnect. */
  constructor(
    private readonly bus: EventBus,
    private readonly conversations: ConversationsService,
    private readonly log: Logger,
    private readonly periodMs: number,
  ) {}

  start(): void {
    this.stopReconnects = this.bus.onReconnect(() => void this.check());
    if (this.periodMs > 0) {
      this.timer = setInterval(() => void this.check(), this.periodMs);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopReconnects?.();
    this.stopReconnects = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One check; while one runs, a call runs one more after it (a reconnect during a check must not
   * be missed). Failures (the database unreachable) are logged; the next check tries again.
   */
  check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.check();
      }
    });
    return this.running;
  }

  private async run(): Promise<void> {
    const ids: string[] = [];
    for (const topic of this.bus.localTopics()) {
      const id = conversationOfMessagesTopic(topic);
      if (id !== null) ids.push(id);
    }
    if (ids.length === 0) return;
    try {
      const lastSeqs = await this.conversations.lastSeqsInBulk(ids);
      for (const [conversationId, lastSeq] of lastSeqs) {
        if (lastSeq === 0) continue;
        this.bus.deliverLocally<MessageTailPayload>(conversationMessagesTopic(conversationId), {
          conversationId,
          lastSeq,
        });
      }
    } catch (err) {
      this.log.warn({ err }, 'the messages tail check failed');
    }
  }
}
