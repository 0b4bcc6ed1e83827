import { buildSchema } from 'type-graphql';
import { assertObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { authChecker } from '../shared/auth-checker';
import type { Context } from '../shared/context';
import { DateTimeScalar } from '../shared/date-time.scalar';
import { AuthResolver } from '../modules/auth/auth.resolver';
import { ConversationsResolver } from '../modules/conversations/conversations.resolver';
import type { Message } from '../modules/messages/message.entity';
import { ConversationMessagesResolver, MessageFieldsResolver, MessagesResolver } from '../modules/messages/messages.resolver';
import { PresenceResolver, UserPresenceResolver } from '../modules/presence/presence.resolver';
import { ConversationReadsResolver, ReadReceiptsResolver } from '../modules/read-receipts/read-receipts.resolver';
import { TypingResolver } from '../modules/typing/typing.resolver';
import { UsersResolver } from '../modules/users/users.resolver';

export const resolvers = [
  AuthResolver,
  UsersResolver,
  ConversationsResolver,
  MessagesResolver,
  MessageFieldsResolver,
  ConversationMessagesResolver,
  PresenceResolver,
  UserPresenceResolver,
  TypingResolver,
  ReadReceiptsResolver,
  ConversationReadsResolver,
] as const;

/**
 * Builds the executable schema from the type-graphql classes. Resolver instances come from the
 * per-server container in the context. Argument validation is the services' job (class-validator
 * is off), so that the rules live beside the transactions they guard.
 */
export async function createSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [...resolvers],
    container: ({ context }: { context: Context }) => context.container,
    authChecker,
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // Every @Subscription has its own `subscribe` (scoped topics, authorization at subscribe
    // time), so type-graphql's topic-based PubSub is never used; it insists on one being given.
    pubSub: {
      publish: () => {
        throw new Error('use the EventBus (src/pubsub), not type-graphql pubSub');
      },
      subscribe: () => {
        throw new Error('use the EventBus (src/pubsub), not type-graphql pubSub');
      },
    },
  });
  readJoinedSender(schema);
  return schema;
}

/**
 * `Message.sender` reads the sender the query joined (history pages, sends, events; see
 * `Message.sender` in message.entity.ts) straight from the message, and calls type-graphql's
 * resolver (MessageFieldsResolver.sender, which loads it) only when it is missing. type-graphql
 * wraps every field resolver call in its own dispatch: a resolver-data object, the resolver
 * instance from the container, and its parameter list sorted and mapped anew on each call
 * (`getParams`). For the 50 messages of a history page that was a quarter of all the bytes a
 * page allocated (V8's sampling heap profiler), hence more frequent young-generation collections.
 */
function readJoinedSender(schema: GraphQLSchema): void {
  const field = assertObjectType(schema.getType('Message')).getFields().sender;
  const load = field.resolve!;
  const resolve: GraphQLFieldResolver<Message, Context> = (message, args, context, info) => message.sender ?? load(message, args, context, info);
  field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
}
