import { LiveStream, type LiveStreamDeps } from '../../shared/live-stream';
import { fromNotificationPayload, userNotificationsTopic, type NotificationAddedPayload } from './notifications.topics';
import type { Notification } from './notifications.types';

/**
 * One viewer's `notificationAdded` stream: their own notifications topic, which every instance feeds
 * locally from the batches published on the shared notifications topic, whichever instance stored them.
 */
export class NotificationStream extends LiveStream<Notification> {
  constructor(deps: LiveStreamDeps, viewerId: string) {
    super(deps, 'notificationAdded', viewerId);
  }

  protected async open(): Promise<void> {
    // Fed by each instance from the shared batches topic: no Redis channel per viewer.
    await this.follow(userNotificationsTopic(this.viewerId), { local: true });
  }

  protected onEvent(p: NotificationAddedPayload): void {
    if (p.recipientId === this.viewerId) void this.push(fromNotificationPayload(p));
  }

  protected *followed(): Iterable<string> {
    yield userNotificationsTopic(this.viewerId);
  }
}
