import { ConversationsService } from '../conversations/conversations.service';
import { MessagesService } from '../messages/messages.service';
import { defineModule } from '../module';
import { PresenceService } from '../presence/presence.service';
import { ReadReceiptsService } from '../read-receipts/read-receipts.service';
import { BlocksService } from '../safety/blocks.service';
import { UsersService } from '../users/users.service';
import { TurnBatcher } from '../../shared/turn-batcher';
import {
  NOTIFICATION_BATCHES_TOPIC,
  userNotificationsTopic,
  type NotificationBatchPayload,
} from './notifications.topics';
import { BullJobQueue } from './notifications.bullmq-queue';
import { createNotifyMetrics } from './notifications.metrics';
import { ParkedJobQueue } from './notifications.parked-queue';
import { MemoryJobQueue, type JobQueue } from './notifications.queue';
import { NotificationsResolver, WebPushKeyResolver } from './notifications.resolver';
import { NotificationsService } from './notifications.service';
import {
  JOB_ATTEMPTS,
  NotificationWorker,
  type AddedJob,
  type MessageJob,
  type MessagesJob,
} from './notifications.worker';

/** Most messages in one notification batch. */
const MAX_BATCH = 200;

/**
 * How long a batch of committed messages stays open for more after its first, ms (Kafka's
 * `linger.ms`). Each batch costs the same statements (and, as a job, the same BullMQ scripts)
 * whatever its size, so a longer window makes batches larger under load (README, Notifications,
 * for the figures); a crash in that window, or while the batch is decided here, loses the
 * notifications not yet stored or enqueued.
 */
const LINGER_MS = 25;

/**
 * Notifications: `notifications`, `markNotificationsRead`, preferences, mutes, Web Push
 * subscriptions and the `notificationAdded` stream. Told of committed messages and created
 * conversations through the messages and conversations services' listeners, it enqueues a job
 * per conversation created (BullMQ on Redis, in-process on the embedded default) and gathers the
 * messages committed within {@link LINGER_MS} into a batch, which the worker's code
 * (notifications.worker.ts) decides, stores and publishes right here when this instance runs a
 * worker (a job when it does not, when too many batches run, or to retry a failed one); the
 * worker's jobs run the coalescing windows and the external deliveries. All of it is off the send
 * path. Owns `notifications`,
 * `notification_preferences`, `conversation_mutes` and `push_subscriptions`.
 *
 * NOTIFICATIONS=off enqueues nothing. `start` runs this instance's worker (unless NOTIFY_WORKER=false);
 * `stop` lets its running jobs finish.
 */
export const notificationsModule = defineModule({
  name: 'notifications',
  resolvers: [NotificationsResolver, WebPushKeyResolver],
  build({ config, db, bus, redis, log, metrics, streams, container }) {
    const notify = config.notify;
    const onError = (err: unknown, name: string) => log.error({ err, job: name }, 'a notification job failed');
    const notifyMetrics = createNotifyMetrics(metrics, () => queue.depth());
    // On Redis, what the queue refuses during an outage is parked in PostgreSQL, not lost.
    const parked = redis
      ? new ParkedJobQueue(
          new BullJobQueue({
            redisUrl: config.redisUrl!,
            prefix: `${config.redisPrefix}bull`,
            concurrency: notify.workerConcurrency,
            lockMs: notify.jobLockMs,
            closeTimeoutMs: config.shutdownTimeoutMs / 2,
            onError,
            log,
          }),
          db,
          log,
          notify.parkedRetryMs,
          () => notifyMetrics.parked.inc(),
        )
      : null;
    const queue: JobQueue = parked ?? new MemoryJobQueue(notify.workerConcurrency, onError);
    const conversations = container.get(ConversationsService);
    const blocks = container.get(BlocksService);
    const messages = container.get(MessagesService);
    const worker = new NotificationWorker({
      db,
      bus,
      queue,
      messages,
      presence: container.get(PresenceService),
      readReceipts: container.get(ReadReceiptsService),
      users: container.get(UsersService),
      // A recipient who blocks the sender is not notified (the safety module's blocks).
      blockingPairs: (blockers, blocked) => blocks.blockingPairs(blockers, blocked),
      config: notify,
      metrics: notifyMetrics,
      log,
    });

    // The messages committed within LINGER_MS of each other become one batch. An instance that runs
    // a worker decides and stores the batch itself, as the worker would run its job, while fewer
    // than workerConcurrency batches run here; otherwise, and when that attempt fails, the batch
    // becomes a job (its id from the first message: adding the same batch again is deduped) and the
    // queue's retries take over. The send does not wait for either.
    const enqueue = (batch: MessageJob[]) =>
      queue
        .add('messages', { messages: batch } satisfies MessagesJob, {
          jobId: `mb.${batch[0].messageId}`,
          attempts: JOB_ATTEMPTS,
        })
        .catch((err: unknown) =>
          log.error({ err, messages: batch.length }, 'neither Redis nor PostgreSQL took a notification job'),
        );
    let inline = 0;
    const notifyBatch = async (batch: MessageJob[]): Promise<void> => {
      if (!notify.worker || inline >= notify.workerConcurrency) return enqueue(batch);
      inline++;
      try {
        await worker.handle('messages', { messages: batch } satisfies MessagesJob);
      } catch (err) {
        log.warn({ err, messages: batch.length }, 'notifying a batch of messages failed; enqueued for retry');
        await enqueue(batch);
      } finally {
        inline--;
      }
    };
    const batcher = new TurnBatcher<MessageJob>(notifyBatch, MAX_BATCH, LINGER_MS);
    // NOTIFICATIONS=off: nothing is enqueued (the send path pays nothing for notifications).
    if (notify.enqueue) {
      messages.onCommitted((m) =>
        batcher.push({
          messageId: m.id,
          conversationId: m.conversationId,
          senderId: m.senderId,
          committedAtMs: Date.now(),
        }),
      );
      conversations.onCreated((result, creatorId) =>
        queue.add(
          'added',
          {
            conversationId: result.conversation.id,
            creatorId,
          } satisfies AddedJob,
          { jobId: `c.${result.conversation.id}`, attempts: JOB_ATTEMPTS },
        ),
      );
    }

    const service = new NotificationsService(db, conversations, notify);
    let stopBatches: (() => Promise<void>) | null = null;
    return {
      provides: [
        service,
        new NotificationsResolver(service, { bus, observer: streams }),
        new WebPushKeyResolver(service),
      ],
      start: async () => {
        // Notifications travel in batches on one topic; each instance hands them to its own
        // subscribers' topics.
        stopBatches = await bus.subscribe<NotificationBatchPayload>(NOTIFICATION_BATCHES_TOPIC, (batch) => {
          for (const p of batch.notifications) bus.deliverLocally(userNotificationsTopic(p.recipientId), p);
        });
        if (notify.worker) queue.run(worker.handle);
        if (parked) {
          parked.start();
          // Redis is back: hand the parked jobs over now rather than at the next run.
          bus.onReconnect(() => void parked.handBack());
        }
      },
      stop: async () => {
        await stopBatches?.();
        await batcher.drain();
        await queue.close();
      },
    };
  },
});
