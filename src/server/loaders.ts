import type { DataSource } from 'typeorm';
import type { LoaderOptions } from '../shared/loader';
import { createConversationLoader, createParticipantIdsLoader } from '../modules/conversations/conversations.loaders';
import { createLastMessageLoader } from '../modules/messages/messages.loaders';
import { createPresenceLoader } from '../modules/presence/presence.loaders';
import type { PresenceService } from '../modules/presence/presence.service';
import { createLastReadSeqLoader, createReadReceiptsLoader, createUnreadCountLoader } from '../modules/read-receipts/read-receipts.loaders';
import { createUserLoader } from '../modules/users/users.loaders';

/** Builds the DataLoaders of one request (HTTP, caching) or one operation (WebSocket, batching only). */
export function createLoaders(ds: DataSource, options: LoaderOptions, presence: PresenceService) {
  return {
    user: createUserLoader(ds, options),
    conversation: createConversationLoader(ds, options),
    participants: createParticipantIdsLoader(ds, options),
    lastMessage: createLastMessageLoader(ds, options),
    presence: createPresenceLoader(presence, options),
    lastReadSeq: createLastReadSeqLoader(ds, options),
    unreadCount: createUnreadCountLoader(ds, options),
    readReceipts: createReadReceiptsLoader(ds, options),
  };
}

/** The loaders in a request's context. */
export type Loaders = ReturnType<typeof createLoaders>;
