import { assertObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { Context } from '../../shared/context';
import { ConversationsService } from '../conversations/conversations.service';
import { defineModule } from '../module';
import { Message, messageViewerIndependent } from './message.entity';
import { MessageStreams } from './message-stream';
import { MessageTailCheck } from './message-tail-check';
import { ConversationMessagesResolver, MessageFieldsResolver, MessagesResolver } from './messages.resolver';
import { MessagesService } from './messages.service';

/**
 * Messages: `sendMessage`, history pages and the `messageAdded` stream, with gap-free seqs per
 * conversation (messages.sql.ts) and replay and gap fill on the stream (message-stream.ts); a
 * periodic and post-reconnect tail check finds lost events without further traffic
 * (message-tail-check.ts).
 */
export const messagesModule = defineModule({
  name: 'messages',
  resolvers: [MessagesResolver, MessageFieldsResolver, ConversationMessagesResolver],
  entities: [Message],
  viewerIndependent: [messageViewerIndependent],
  adjustSchema: readJoinedSender,
  build({ config, db, bus, log, streams, container, metrics }) {
    const conversations = container.get(ConversationsService);
    const messages = new MessagesService(db, bus, conversations, log, () => metrics.messagesSent.inc());
    const messageStreams = new MessageStreams({ bus, observer: streams }, conversations, messages);
    const tailCheck = new MessageTailCheck(bus, conversations, log, config.messageTailCheckMs);
    return {
      start: async () => tailCheck.start(),
      stop: async () => tailCheck.stop(),
      provides: [
        messages,
        new MessagesResolver(messages, messageStreams),
        new MessageFieldsResolver(),
        new ConversationMessagesResolver(messages),
      ],
    };
  },
});

/**
 * `Message.sender` reads the sender the query joined (history pages, sends, events) straight from
 * the message, and calls type-graphql's resolver (which loads it) only when it is missing:
 * type-graphql's per-call dispatch around a field resolver allocated a quarter of a history page.
 */
function readJoinedSender(schema: GraphQLSchema): void {
  const field = assertObjectType(schema.getType('Message')).getFields().sender;
  const load = field.resolve!;
  const resolve: GraphQLFieldResolver<Message, Context> = (message, args, context, info) =>
    message.sender ?? load(message, args, context, info);
  field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
}
