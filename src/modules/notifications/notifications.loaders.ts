import { defineLoader, keyedLoader } from '../../shared/loader';
import { MessagesService } from '../messages/messages.service';

/** Messages by id, senders attached; one query per batch (`Notification.message`). */
export const notificationMessageLoader = defineLoader('notificationMessage', ({ container }, options) =>
  keyedLoader(
    (ids: readonly string[]) => container.get(MessagesService).byIds(ids),
    (m) => m.id,
    options,
  ),
);
