import { defineModule } from '../module';
import { BlocksResolver } from './blocks.resolver';
import { BlocksService } from './blocks.service';
import { createOperationGuard } from './operation-guard';
import { RateLimits } from './rate-limits';

/**
 * Safety ([safety]): the limits every operation and socket passes on both transports (rate
 * limits, GraphQL limits, input strings, connection caps; see README "Limits"), and blocking
 * (`blockUser`, `unblockUser`, `blockedUsers`). First in the registry: auth asks {@link RateLimits}
 * about logins; conversations, messages and typing ask {@link BlocksService}.
 *
 * The guard needs the schema, which exists only once every module is built: the composition root
 * passes it to `guard(schema)`.
 */
export const safetyModule = defineModule({
  name: 'safety',
  resolvers: [BlocksResolver],
  build({ config, db, bus, redis, log, metrics }) {
    const rates = new RateLimits(config.limits, redis, config.redisPrefix, metrics, log);
    const blocks = new BlocksService(db, bus, log);
    return {
      provides: [rates, blocks, new BlocksResolver(blocks)],
      guard: (schema) => createOperationGuard(schema, config.limits, rates),
    };
  },
});
