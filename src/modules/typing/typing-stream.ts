import { LiveStream, type LiveStreamDeps } from '../../shared/live-stream';
import type { ConversationsService } from '../conversations/conversations.service';
import { conversationTypingTopic, type TypingPayload } from './typing.topics';
import { TypingEvent } from './typing.types';

/** Opens `typing(conversationId)` streams: others' typing events in one conversation. */
export class TypingStreams {
  constructor(
    private readonly live: LiveStreamDeps,
    private readonly conversations: ConversationsService,
  ) {}

  /**
   * Checks the arguments and returns the stream (which subscribes when first read). The viewer's
   * own events are not delivered.
   * @throws DomainError BAD_USER_INPUT for a malformed id; NOT_FOUND / FORBIDDEN when the
   *   conversation does not exist / the viewer is not a participant.
   */
  async open(viewerId: string, conversationId: string): Promise<AsyncIterable<TypingEvent>> {
    const { id } = await this.conversations.requireParticipant(viewerId, conversationId);
    return new TypingStream(this.live, viewerId, id);
  }
}

/** One subscriber's stream: the typing topic of one conversation, without the viewer's own events. */
class TypingStream extends LiveStream<TypingEvent> {
  constructor(
    deps: LiveStreamDeps,
    viewerId: string,
    private readonly conversationId: string,
  ) {
    super(deps, 'typing', viewerId);
  }

  protected async open(): Promise<void> {
    await this.follow(conversationTypingTopic(this.conversationId));
  }

  protected onEvent(p: TypingPayload): void {
    if (p.userId !== this.viewerId) void this.push(Object.assign(new TypingEvent(), p));
  }

  protected *followed(): Iterable<string> {
    yield conversationTypingTopic(this.conversationId);
  }
}
