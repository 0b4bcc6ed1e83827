import { buildSchema, type NonEmptyArray } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import type { ParleyModule } from '../modules/module';
import { authChecker } from '../shared/auth-checker';
import type { Context } from '../shared/context';
import { DateTimeScalar } from '../shared/date-time.scalar';

/**
 * Builds the executable schema from the modules' type-graphql resolver classes. Resolver
 * instances come from the per-server container in the context. Argument validation is the
 * services' job (class-validator is off), beside the transactions it guards.
 */
export async function buildParleySchema(modules: readonly ParleyModule[]): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- type-graphql's resolver list type
    resolvers: modules.flatMap((m) => m.resolvers) as NonEmptyArray<Function>,
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
  for (const module of modules) module.adjustSchema?.(schema);
  resolveSubscriptionsToTheirEvents(schema);
  return schema;
}

/**
 * Gives every subscription field the resolver graphql-js's default would be for an event: the
 * event itself. A module's `@Subscription` method returns its `@Root()` (authorization happens
 * once, in the field's `subscribe`), but type-graphql wraps the method in its auth middleware and
 * an asynchronous argument check, so every event's execution became a promise, and every
 * subscriber of the event waited on it (src/execution/shared-subscribe.ts). Synchronous, the
 * result of an event reaches the sockets in the call that received it.
 */
function resolveSubscriptionsToTheirEvents(schema: GraphQLSchema): void {
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) field.resolve = eventItself;
}

const eventItself = (event: unknown): unknown => event;
