import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { AuthedContext } from '../../shared/context';
import { checkId } from '../../shared/ids';
import { notFound } from '../../shared/errors';
import { toConnection } from '../../shared/connection.types';
import { User } from './user.entity';
import { userLoader } from './users.loaders';
import { UserConnection } from './users.types';
import type { UsersService } from './users.service';

/** `me`, `user(id)` and the `users` directory; every field needs an authenticated viewer. */
@Authorized()
@Resolver(() => User)
export class UsersResolver {
  constructor(private readonly service: UsersService) {}

  @Query(() => User, { description: '[core] the authenticated user' })
  async me(@Ctx() ctx: AuthedContext): Promise<User> {
    const user = await ctx.loaders.get(userLoader).load(ctx.user.id);
    if (!user) throw notFound('user no longer exists');
    return user;
  }

  @Query(() => User, { nullable: true, description: '[core]' })
  user(@Arg('id', () => ID) id: string, @Ctx() ctx: AuthedContext): Promise<User | null> {
    return ctx.loaders.get(userLoader).load(checkId(id, 'id'));
  }

  @Query(() => UserConnection, {
    description: '[core] users ordered by username; search matches a username or displayName prefix',
  })
  async users(
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('search', () => String, { nullable: true }) search: string | null,
  ): Promise<UserConnection> {
    const page = await this.service.list({ first: first ?? 50, after, search });
    return toConnection(page, (u) => this.service.cursorOf(u));
  }
}
