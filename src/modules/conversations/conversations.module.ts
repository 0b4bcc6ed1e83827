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
 * `conversation_participants`.
 */
export const conversationsModule = defineModule({
  name: 'conversations',
  resolvers: [ConversationsResolver],
  entities: [Conversation, Participant],
  build({ config, db, bus, log, container }) {
    const conversations = new ConversationsService(db, bus, log, config.maxParticipants, container.get(BlocksService));
    return { provides: [conversations, new ConversationsResolver(conversations)] };
  },
});
