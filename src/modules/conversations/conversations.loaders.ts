import { defineLoader, groupedLoader, keyedLoader } from '../../shared/loader';
import { ConversationsService } from './conversations.service';

/** Conversations by id (`null` for an unknown id); one query per batch. */
export const conversationLoader = defineLoader('conversation', ({ container }, options) =>
  keyedLoader(
    (ids: readonly string[]) => container.get(ConversationsService).byIds(ids),
    (c) => c.id,
    options,
  ),
);

/** The Participant rows of each conversation by conversation id, sorted by user id (empty for an unknown id); one query per batch. */
export const participantsLoader = defineLoader('participants', ({ container }, options) =>
  groupedLoader(
    (ids: readonly string[]) => container.get(ConversationsService).participantsOf(ids),
    (p) => p.conversationId,
    options,
  ),
);
