import { ConversationsService } from '../conversations/conversations.service';
import { defineModule } from '../module';
import { BlocksService } from '../safety/blocks.service';
import { TypingStreams } from './typing-stream';
import { TypingResolver } from './typing.resolver';
import { TypingService } from './typing.service';
import { createMemoryTypingStore, createRedisTypingStore } from './typing.store';

/**
 * Typing indicators: `setTyping` and the `typing(conversationId)` stream. State is ephemeral, in
 * Redis (in-process on the embedded default), never PostgreSQL; `start` runs the sweep for states
 * of dead instances every PRESENCE_SWEEP_MS, `stop` ends it and this instance's timers.
 */
export const typingModule = defineModule({
  name: 'typing',
  resolvers: [TypingResolver],
  build({ config, bus, redis, log, streams, container }) {
    const conversations = container.get(ConversationsService);
    const store = redis ? createRedisTypingStore(redis, config.redisPrefix) : createMemoryTypingStore();
    const typing = new TypingService(bus, store, conversations, log);
    const typingStreams = new TypingStreams({ bus, observer: streams }, conversations, container.get(BlocksService));
    return {
      provides: [typing, new TypingResolver(typing, typingStreams)],
      start: () => typing.start(config.presenceSweepMs),
      stop: () => typing.stop(),
    };
  },
});
