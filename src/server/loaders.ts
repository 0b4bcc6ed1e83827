import type { DataSource } from 'typeorm';
import type { LoaderOptions } from '../shared/loader';
import { createConversationLoader, createParticipantIdsLoader } from '../modules/conversations/conversations.loaders';
import { createLastMessageLoader } from '../modules/messages/messages.loaders';
import { createPresenceLoader } from '../modules/presence/presence.loaders';
import type { PresenceService } from '../modules/presence/presence.service';
import { createLastReadSeqLoader, createReadReceiptsLoader, createUnreadCountLoader } from '../modules/read-receipts/read-receipts.loaders';
import { createUserLoader } from '../modules/users/users.loaders';

/**
 * The DataLoaders of one request (HTTP, caching) or one operation (WebSocket, batching only),
 * each built on first use: an idle subscription holds a context for hours and most operations
 * touch one or two loaders, so building all eight up front cost memory on every connection.
 */
export class Loaders {
  private built: Partial<Record<string, unknown>> = {};

  constructor(
    private readonly ds: DataSource,
    private readonly options: LoaderOptions,
    private readonly presenceService: PresenceService,
  ) {}

  private once<T>(name: string, build: () => T): T {
    return (this.built[name] ??= build()) as T;
  }

  get user() {
    return this.once('user', () => createUserLoader(this.ds, this.options));
  }
  get conversation() {
    return this.once('conversation', () => createConversationLoader(this.ds, this.options));
  }
  get participants() {
    return this.once('participants', () => createParticipantIdsLoader(this.ds, this.options));
  }
  get lastMessage() {
    return this.once('lastMessage', () => createLastMessageLoader(this.ds, this.options));
  }
  get presence() {
    return this.once('presence', () => createPresenceLoader(this.presenceService, this.options));
  }
  get lastReadSeq() {
    return this.once('lastReadSeq', () => createLastReadSeqLoader(this.ds, this.options));
  }
  get unreadCount() {
    return this.once('unreadCount', () => createUnreadCountLoader(this.ds, this.options));
  }
  get readReceipts() {
    return this.once('readReceipts', () => createReadReceiptsLoader(this.ds, this.options));
  }
}

/** Builds the loaders of one request or operation (see {@link Loaders}). */
export function createLoaders(ds: DataSource, options: LoaderOptions, presence: PresenceService): Loaders {
  return new Loaders(ds, options, presence);
}
