import type DataLoader from 'dataloader';
import { notFound } from '../../shared/errors';
import { defineLoader, keyedLoader } from '../../shared/loader';
import type { User } from './user.entity';
import { UsersService } from './users.service';

/** Users by id (`null` for an unknown id); one query per batch. */
export const userLoader = defineLoader('user', ({ container }, options) =>
  keyedLoader(
    (ids: readonly string[]) => container.get(UsersService).byIds(ids),
    (u) => u.id,
    options,
  ),
);

/**
 * Loads a user that must exist (a foreign key or a membership says so).
 * @param loader - `ctx.loaders.get(userLoader)`.
 * @throws DomainError NOT_FOUND when it does not.
 */
export async function loadUserOrFail(loader: DataLoader<string, User | null>, id: string): Promise<User> {
  const user = await loader.load(id);
  if (!user) throw notFound('user not found');
  return user;
}
