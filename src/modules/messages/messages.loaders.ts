import { defineLoader, keyedLoader } from '../../shared/loader';
import { MessagesService } from './messages.service';

/** The newest message of each conversation, sender attached; one query per batch. */
export const lastMessageLoader = defineLoader('lastMessage', ({ container }, options) =>
  keyedLoader(
    (ids: readonly string[]) => container.get(MessagesService).lastMessagesOf(ids),
    (m) => m.conversationId,
    options,
  ),
);
