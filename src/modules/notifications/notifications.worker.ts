import type { NotifyConfig } from '../../config/config';
import type { Db } from '../../db/sql';
import type { EventBus } from '../../pubsub/event-bus';
import type { Logger } from '../../shared/logger';
import type { MessagesService } from '../messages/messages.service';
import type { PresenceService } from '../presence/presence.service';
import type { ReadReceiptsService } from '../read-receipts/read-receipts.service';
import type { UsersService } from '../users/users.service';
import { shouldNotify } from './notifications.decide';
import { postWebhook, sendWebPush, SubscriptionGone, type DeliveryPayload } from './notifications.delivery';
import type { NotifyMetrics } from './notifications.metrics';
import { GiveUp, RetryLater, type JobQueue } from './notifications.queue';
import {
  deletePushSubscriptionById,
  insertMessageNotifications,
  insertNotifications,
  markPushed,
  selectCandidatesOf,
  type Candidate,
  selectPushSubscriptions,
  selectUnpushed,
  type PushSubscriptionRow,
} from './notifications.sql';
import {
  NOTIFICATION_BATCHES_TOPIC,
  toNotificationPayload,
  type NotificationBatchPayload,
} from './notifications.topics';
import { NotificationKind, NotifyWhen } from './notifications.types';

/** Attempts of every job (first run included). */
export const JOB_ATTEMPTS = 5;

/** A committed message, as its job carries it. */
export interface MessageJob {
  messageId: string;
  conversationId: string;
  senderId: string;
  /** ms since the epoch, when the send enqueued it (after commit). */
  committedAtMs: number;
}

/** Committed messages enqueued together (one event-loop turn of sends), decided in one pass. */
export interface MessagesJob {
  messages: MessageJob[];
}

/** Something that may notify `recipientId`: an event by `senderId` in `conversationId`. */
interface NotifyEvent {
  recipientId: string;
  conversationId: string;
  senderId: string;
  /** The recipient's preference and mute of the conversation. */
  candidate: Candidate;
}

/** A conversation someone created. */
export interface AddedJob {
  conversationId: string;
  creatorId: string;
}

/** The end of a coalescing window of one (recipient, conversation). */
export interface WindowJob {
  recipientId: string;
  conversationId: string;
}

/** One delivery to one channel. */
export interface SendJob {
  payload: DeliveryPayload;
  subscription?: PushSubscriptionRow;
}

/**
 * Which of the pairs (`blockerIds[i]`, `blockedIds[i]`) are blocks, as `blocker:blocked`
 * (BlocksService.blockingPairs of the safety module).
 */
export type BlockingPairs = (blockerIds: readonly string[], blockedIds: readonly string[]) => Promise<Set<string>>;

/** The services the worker reads (all from modules above notifications in the registry). */
export interface WorkerDeps {
  db: Db;
  bus: EventBus;
  queue: JobQueue;
  messages: MessagesService;
  presence: PresenceService;
  readReceipts: ReadReceiptsService;
  users: UsersService;
  blockingPairs: BlockingPairs;
  config: NotifyConfig;
  metrics: NotifyMetrics;
  log: Logger;
}

/**
 * The notifications worker: decides who is notified of a message or a new conversation, stores
 * the notifications (one statement, at most one per recipient and message), publishes them to the
 * recipients' topics, and runs the external deliveries: coalescing windows per (recipient,
 * conversation), then one job per channel, retried with backoff by the queue.
 */
export class NotificationWorker {
  /** Whether windows and deliveries run at all: a channel is configured, or the debug log would show them. */
  private readonly external: boolean;

  constructor(private readonly d: WorkerDeps) {
    this.external = d.config.webhook !== null || d.config.vapid !== null || d.log.isLevelEnabled('debug');
  }

  /** Runs one job of the queue. @throws to fail the attempt (see RetryLater, GiveUp). */
  handle = async (name: string, data: unknown): Promise<void> => {
    switch (name) {
      case 'messages':
        return this.onMessages((data as MessagesJob).messages);
      case 'message': // one message per job, as enqueued before batches
        return this.onMessages([data as MessageJob]);
      case 'added':
        return this.onAdded(data as AddedJob);
      case 'window':
        return this.onWindowEnd(data as WindowJob);
      case 'webhook':
        return this.sendWebhook(data as SendJob);
      case 'webpush':
        return this.sendWebPush(data as SendJob);
      default:
        throw new GiveUp(`unknown notification job ${name}`);
    }
  };

  /**
   * Decides, stores and publishes the NEW_MESSAGE notifications of a batch of messages with a
   * fixed number of statements whatever its size: the participants with their preferences and
   * mutes, blocks (only when someone is left to notify), then one insert; presence is one read of
   * the shared store (only for those whom presence decides).
   */
  private async onMessages(jobs: readonly MessageJob[]): Promise<void> {
    const conversationIds = [...new Set(jobs.map((j) => j.conversationId))];
    const members = new Map<string, Candidate[]>();
    for (const c of await selectCandidatesOf(this.d.db.sql, conversationIds)) {
      const list = members.get(c.conversationId);
      if (list) list.push(c);
      else members.set(c.conversationId, [c]);
    }
    const chosen = await this.decide(
      jobs.flatMap((job) =>
        (members.get(job.conversationId) ?? []).map((candidate) => ({
          recipientId: candidate.userId,
          conversationId: job.conversationId,
          senderId: job.senderId,
          candidate,
          job,
        })),
      ),
      true,
    );
    if (!chosen.length) return;

    const stored = await insertMessageNotifications(this.d.db.sql, {
      recipientIds: chosen.map((e) => e.recipientId),
      conversationIds: chosen.map((e) => e.conversationId),
      messageIds: chosen.map((e) => e.job.messageId),
      external: this.external,
    });
    const now = Date.now();
    const storedMessages = new Set(stored.map((s) => s.notification.messageId));
    for (const job of jobs) {
      if (storedMessages.has(job.messageId)) this.d.metrics.commitToStored.observe((now - job.committedAtMs) / 1000);
    }
    await this.publish(stored);
    if (!this.external) return;
    // Every decided recipient, not only those stored now: a retry after a crash reopens the windows
    // it may have missed (a window finding nothing unpushed sends nothing).
    const windows = uniquePairs(chosen.map((e) => [e.recipientId, e.conversationId]));
    await Promise.all(windows.map(([recipientId, conversationId]) => this.openWindow(recipientId, conversationId)));
  }

  private async onAdded(job: AddedJob): Promise<void> {
    // The conversation's participants now: those the job names, unless one has left since.
    const candidates = await selectCandidatesOf(this.d.db.sql, [job.conversationId]);
    const recipients = (
      await this.decide(
        candidates.map((candidate) => ({
          recipientId: candidate.userId,
          conversationId: job.conversationId,
          senderId: job.creatorId,
          candidate,
        })),
        false,
      )
    ).map((r) => r.recipientId);
    if (!recipients.length) return;
    const stored = await insertNotifications(this.d.db.sql, {
      recipientIds: recipients,
      kind: NotificationKind.ADDED_TO_CONVERSATION,
      conversationId: job.conversationId,
      messageId: null,
    });
    await this.publish(stored);
    if (!this.external || !stored.length) return;
    const users = new Map((await this.d.users.byIds(stored.map((s) => s.recipientId))).map((u) => [u.id, u]));
    await Promise.all(
      stored.map(({ recipientId, notification }) =>
        this.dispatch({
          deliveryId: notification.id,
          recipient: { id: recipientId, username: users.get(recipientId)?.username ?? '' },
          kind: NotificationKind.ADDED_TO_CONVERSATION,
          conversationId: job.conversationId,
          count: 1,
          message: null,
          createdAt: new Date().toISOString(),
        }),
      ),
    );
  }

  /**
   * Which of `events` notify their recipient, by preference and mute (`honourMute`), then presence,
   * then blocks; the sender of an event is never its recipient. At most two reads whatever their
   * number, each only when someone is left to decide: the shared presence store for those whose
   * preference depends on it, and blocks per (recipient, sender).
   */
  private async decide<E extends NotifyEvent>(events: readonly E[], honourMute: boolean): Promise<E[]> {
    // Who would be notified when offline: presence can only take recipients away.
    const open = events.filter(
      (e) => e.recipientId !== e.senderId && shouldNotify(e.candidate, null, e.conversationId, honourMute),
    );
    if (!open.length) return [];
    const users = [
      ...new Set(open.filter((e) => e.candidate.notifyWhen === NotifyWhen.WHEN_AWAY).map((e) => e.recipientId)),
    ];
    const states = users.length ? await this.d.presence.liveStates(users) : [];
    const presenceOf = new Map(users.map((id, i) => [id, states[i] ?? null]));
    const notified = open.filter((e) =>
      shouldNotify(e.candidate, presenceOf.get(e.recipientId) ?? null, e.conversationId, honourMute),
    );
    if (!notified.length) return [];
    // Recipients who block the sender are dropped (BlocksService.blockingPairs).
    const blockPairs = uniquePairs(notified.map((e) => [e.recipientId, e.senderId]));
    const blocks = await this.d.blockingPairs(
      blockPairs.map(([recipient]) => recipient),
      blockPairs.map(([, sender]) => sender),
    );
    return blocks.size ? notified.filter((e) => !blocks.has(`${e.recipientId}:${e.senderId}`)) : notified;
  }

  /** Publishes what was stored as one batch (see {@link NOTIFICATION_BATCHES_TOPIC}). */
  private async publish(stored: Awaited<ReturnType<typeof insertNotifications>>): Promise<void> {
    if (!stored.length) return;
    try {
      await this.d.bus.publish<NotificationBatchPayload>(NOTIFICATION_BATCHES_TOPIC, {
        notifications: stored.map(({ recipientId, notification }) => toNotificationPayload(notification, recipientId)),
      });
    } catch (err) {
      // Stored: the recipients list them; only the live events are lost.
      this.d.log.error({ err, notifications: stored.length }, 'publishing notifications failed');
    }
  }

  /**
   * Opens the coalescing window of a (recipient, conversation) unless one is open: a delayed job
   * whose id is the pair, so every instance shares it.
   */
  private openWindow(recipientId: string, conversationId: string, suffix = ''): Promise<void> {
    return this.d.queue.add('window', { recipientId, conversationId } satisfies WindowJob, {
      jobId: `w.${recipientId}.${conversationId}${suffix}`,
      delayMs: this.d.config.coalesceMs,
      attempts: JOB_ATTEMPTS,
    });
  }

  private async onWindowEnd(job: WindowJob): Promise<void> {
    const rows = await selectUnpushed(this.d.db.sql, job.recipientId, job.conversationId);
    if (!rows.length) return;
    const newest = rows[rows.length - 1];
    const [[message], [read], [recipient]] = await Promise.all([
      this.d.messages.byIds([newest.messageId]),
      this.d.readReceipts.lastReadSeqsOf({ conversationIds: [job.conversationId], userIds: [job.recipientId] }),
      this.d.users.byIds([job.recipientId]),
    ]);
    if (message && recipient && (read?.seq ?? 0) < message.seq) {
      await this.dispatch({
        deliveryId: newest.id,
        recipient: { id: recipient.id, username: recipient.username },
        kind: NotificationKind.NEW_MESSAGE,
        conversationId: job.conversationId,
        count: rows.length,
        message: {
          id: message.id,
          seq: message.seq,
          body: message.body,
          createdAt: message.createdAt.toISOString(),
          sender: {
            id: message.senderId,
            username: message.sender!.username,
            displayName: message.sender!.displayName,
          },
        },
        createdAt: new Date().toISOString(),
      });
    } else this.d.metrics.deliveries.labels('all', 'skipped_read').inc();
    await markPushed(
      this.d.db.sql,
      rows.map((r) => r.id),
    );
    // This job still holds the window's id, so a notification stored since the read above opened
    // no window: give it one of its own.
    const late = await selectUnpushed(this.d.db.sql, job.recipientId, job.conversationId);
    if (late.length) await this.openWindow(job.recipientId, job.conversationId, `.${late[0].id}`);
  }

  /** Hands a delivery to every configured channel, one job each (the id dedupes a retried window), or logs it. */
  private async dispatch(payload: DeliveryPayload): Promise<void> {
    const { webhook, vapid } = this.d.config;
    const jobs: Array<Promise<void>> = [];
    if (webhook) {
      jobs.push(
        this.d.queue.add('webhook', { payload } satisfies SendJob, {
          jobId: `h.${payload.deliveryId}`,
          attempts: JOB_ATTEMPTS,
        }),
      );
    }
    if (vapid) {
      for (const subscription of await selectPushSubscriptions(this.d.db.sql, payload.recipient.id)) {
        jobs.push(
          this.d.queue.add('webpush', { payload, subscription } satisfies SendJob, {
            jobId: `p.${payload.deliveryId}.${subscription.id}`,
            attempts: JOB_ATTEMPTS,
          }),
        );
      }
    }
    if (!webhook && !vapid) {
      this.d.log.debug({ delivery: payload }, 'notification delivery (no channel configured)');
      this.d.metrics.deliveries.labels('log', 'delivered').inc();
    }
    await Promise.all(jobs);
  }

  private async sendWebhook({ payload }: SendJob): Promise<void> {
    const { url, secret } = this.d.config.webhook!;
    await this.counted('webhook', () => postWebhook(url, secret, payload));
  }

  private async sendWebPush({ payload, subscription }: SendJob): Promise<void> {
    try {
      await this.counted('webpush', () => sendWebPush(subscription!, this.d.config.vapid!, payload));
    } catch (err) {
      if (err instanceof SubscriptionGone) await deletePushSubscriptionById(this.d.db.sql, subscription!.id);
      throw err;
    }
  }

  /** Runs one attempt and counts its outcome. */
  private async counted(channel: string, attempt: () => Promise<void>): Promise<void> {
    try {
      await attempt();
      this.d.metrics.deliveries.labels(channel, 'delivered').inc();
    } catch (err) {
      const outcome = err instanceof SubscriptionGone ? 'gone' : err instanceof RetryLater ? 'retried' : 'failed';
      this.d.metrics.deliveries.labels(channel, outcome).inc();
      this.d.log.warn({ err, channel }, 'a notification delivery attempt failed');
      throw err;
    }
  }
}

/** The distinct pairs of `pairs`, in first-seen order. */
function uniquePairs(pairs: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const seen = new Map<string, [string, string]>();
  for (const [a, b] of pairs) seen.set(`${a}:${b}`, [a, b]);
  return [...seen.values()];
}
