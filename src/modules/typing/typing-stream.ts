import { LiveStream, type LiveStreamDeps } from '../../shared/live-stream';
import type { ConversationsService } from '../conversations/conversations.service';
import type { BlocksService } from '../safety/blocks.service';
import { userBlocksTopic, type BlockChangedPayload } from '../safety/blocks.topics';
import { conversationTypingTopic, type TypingPayload } from './typing.topics';
import { TypingEvent } from './typing.types';

/** Opens `typing(conversationId)` streams: others' typing events in one conversation. */
export class TypingStreams {
  constructor(
    private readonly live: LiveStreamDeps,
    private readonly conversations: ConversationsService,
    private readonly blocks: BlocksService,
  ) {}

  /**
   * Checks the arguments and returns the stream (which subscribes when first read). The viewer's
   * own events are not delivered, nor those of users the viewer blocks.
   * @throws DomainError BAD_USER_INPUT for a malformed id; NOT_FOUND / FORBIDDEN when the
   *   conversation does not exist / the viewer is not a participant.
   */
  async open(viewerId: string, conversationId: string): Promise<AsyncIterable<TypingEvent>> {
    const { id } = await this.conversations.requireParticipant(viewerId, conversationId);
    return new TypingStream(this.live, this.blocks, viewerId, id);
  }
}

/**
 * One subscriber's stream: the typing topic of one conversation, without the viewer's own events
 * or those of users the viewer blocks. The blocked set is read once and kept current by the
 * viewer's blocks topic (followed first, so that no change falls between the read and the follow).
 */
class TypingStream extends LiveStream<TypingEvent> {
  private readonly blocked = new Set<string>();

  constructor(
    deps: LiveStreamDeps,
    private readonly blocks: BlocksService,
    viewerId: string,
    private readonly conversationId: string,
  ) {
    super(deps, 'typing', viewerId);
  }

  protected async open(): Promise<void> {
    await this.follow(userBlocksTopic(this.viewerId));
    for (const id of await this.blocks.blockedBy(this.viewerId)) this.blocked.add(id);
    await this.follow(conversationTypingTopic(this.conversationId));
  }

  protected onEvent(p: TypingPayload | BlockChangedPayload): void {
    if ('blockedId' in p) {
      if (p.blocked) this.blocked.add(p.blockedId);
      else this.blocked.delete(p.blockedId);
    } else if (p.userId !== this.viewerId && !this.blocked.has(p.userId)) {
      void this.push(Object.assign(new TypingEvent(), p));
    }
  }

  protected *followed(): Iterable<string> {
    yield userBlocksTopic(this.viewerId);
    yield conversationTypingTopic(this.conversationId);
  }
}
