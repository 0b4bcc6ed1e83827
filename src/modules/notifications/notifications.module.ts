import { ConversationsService } from '../conversations/conversations.service';
import { MessagesService } from '../messages/messages.service';
import { defineModule } from '../module';
import { PresenceService } from '../presence/presence.service';
import { ReadReceiptsService } from '../read-receipts/read-receipts.service';
import { BlocksService } from '../safety/blocks.service';
import { UsersService } from '../users/users.service';
import { BullJobQueue } from './notifications.bullmq-queue';
import { createNotifyMetrics } from './notifications.metrics';
import { ParkedJobQueue } from './notifications.parked-queue';
import { MemoryJobQueue, type JobQueue } from './notifications.queue';
import { NotificationsResolver, WebPushKeyResolver } from './notifications.resolver';
import { NotificationsService } from './notifications.service';
import { JOB_ATTEMPTS, NotificationWorker, type AddedJob, type MessageJob } from './notifications.worker';

/**
 * Notifications: `notifications`, `markNotificationsRead`, preferences, mutes, Web Push
 * subscriptions and the `notificationAdded` stream. Told of committed messages and created
 * conversations through the messages and conversations services' listeners, it enqueues one job
 * each (BullMQ on Redis, in-process on the embedded default); the worker (notifications.worker.ts)
 * decides, stores, publishes and delivers off the send path. Owns `notifications`,
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
      conversations,
      messages,
      presence: container.get(PresenceService),
      readReceipts: container.get(ReadReceiptsService),
      users: container.get(UsersService),
      // A recipient who blocks the sender is not notified (the safety module's blocks).
      blockersAmong: (ids, sender) => blocks.blockersAmong(ids, sender),
      config: notify,
      metrics: notifyMetrics,
      log,
    });

    // NOTIFICATIONS=off: nothing is enqueued (the send path pays nothing for notifications).
    if (notify.enqueue) {
      messages.onCommitted((m) =>
        queue.add(
          'message',
          {
            messageId: m.id,
            conversationId: m.conversationId,
            senderId: m.senderId,
            committedAtMs: Date.now(),
          } satisfies MessageJob,
          { jobId: `m.${m.id}`, attempts: JOB_ATTEMPTS },
        ),
      );
      conversations.onCreated((result, creatorId) =>
        queue.add(
          'added',
          {
            conversationId: result.conversation.id,
            creatorId,
            participantIds: result.participantIds,
          } satisfies AddedJob,
          { jobId: `c.${result.conversation.id}`, attempts: JOB_ATTEMPTS },
        ),
      );
    }

    const service = new NotificationsService(db, conversations, notify);
    return {
      provides: [
        service,
        new NotificationsResolver(service, { bus, observer: streams }),
        new WebPushKeyResolver(service),
      ],
      start: () => {
        if (notify.worker) queue.run(worker.handle);
        if (parked) {
          parked.start();
          // Redis is back: hand the parked jobs over now rather than at the next run.
          bus.onReconnect(() => void parked.handBack());
        }
        return Promise.resolve();
      },
      stop: () => queue.close(),
    };
  },
});
