import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { AuthedContext } from '../../shared/context';
import { User } from '../users/user.entity';
import { userLoader } from '../users/users.loaders';
import type { BlocksService } from './blocks.service';

/** `blockUser`, `unblockUser` and `blockedUsers` ([safety]). */
@Authorized()
@Resolver()
export class BlocksResolver {
  constructor(private readonly blocks: BlocksService) {}

  @Mutation(() => Boolean, {
    description: '[safety] a blocked user cannot start or send to a direct conversation with the blocker',
  })
  async blockUser(@Arg('userId', () => ID) userId: string, @Ctx() ctx: AuthedContext): Promise<boolean> {
    await this.blocks.block(ctx.user.id, userId);
    return true;
  }

  @Mutation(() => Boolean, { description: '[safety]' })
  async unblockUser(@Arg('userId', () => ID) userId: string, @Ctx() ctx: AuthedContext): Promise<boolean> {
    await this.blocks.unblock(ctx.user.id, userId);
    return true;
  }

  @Query(() => [User], { description: '[safety]' })
  async blockedUsers(@Ctx() ctx: AuthedContext): Promise<User[]> {
    const ids = await this.blocks.blockedBy(ctx.user.id);
    const users = await ctx.loaders.get(userLoader).loadMany(ids);
    // A user deleted since is left out.
    return users.filter((u): u is User => u !== null && !(u instanceof Error));
  }
}
