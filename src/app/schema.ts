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
  return schema;
}
