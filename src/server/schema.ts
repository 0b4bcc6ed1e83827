import { buildSchema } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { authChecker } from '../shared/auth-checker';
import type { Context } from '../shared/context';
import { DateTimeScalar } from '../shared/date-time.scalar';
import { AuthResolver } from '../modules/auth/auth.resolver';
import { ConversationsResolver } from '../modules/conversations/conversations.resolver';
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
export function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
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
}
