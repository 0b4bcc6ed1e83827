import type { Unsubscribe } from '../../pubsub/event-bus';
import { defineModule } from '../module';
import { BlocksService } from '../safety/blocks.service';
import { Conversation } from './conversation.entity';
import { ConversationsResolver } from './conversations.resolver';
import { ConversationsService } from './conversations.service';
import { Participant } from './participant.entity';

/**
 * Conversations: `conversation`, `conversations` and `startConversation`, identity by participant
 * set with race-free get-or-create (conversations.sql.ts), the membership checks and positions
 * the later modules use through {@link ConversationsService}, and the conversation and
 * participants loaders (conversations.loaders.ts). Owns `conversations` and
 * `conversation_participants`. While started it relays every conversation created, on any
 * instance, to the local subscribers of its participants' conversations topics.
 */
export const conversationsModule = defineModule({
  name: 'conversations',
  resolvers: [ConversationsResolver],
  entities: [Conversation, Participant],
  build({ config, db, bus, log, container }) {
    const conversations = new ConversationsService(db, bus, log, config.maxParticipants, container.get(BlocksService));
    let stopRelay: Unsubscribe | null = null;
    return {
      provides: [conversations, new ConversationsResolver(conversations)],
      async start() {
        stopRelay = await conversations.relayCreated();
      },
      async stop() {
        const stopping = stopRelay;
        stopRelay = null;
        await stopping?.();
      },
    };
  },
});
