import type { DataSource } from 'typeorm';
import { notFound } from '../../shared/errors';
import { keyedLoader, type LoaderOptions } from '../../shared/loader';
import { User } from './user.entity';

/** Users by id, one query per batch. */
export function createUserLoader(ds: DataSource, options: LoaderOptions) {
  return keyedLoader<string, User>(
    (ids) => ds.getRepository(User).createQueryBuilder('u').where('u.id = ANY(:ids)', { ids }).getMany(),
    (u) => u.id,
    options,
  );
}

/**
 * Loads a user that must exist (a foreign key or a membership says so).
 * @throws DomainError NOT_FOUND when it does not.
 */
export async function loadUserOrFail(loader: ReturnType<typeof createUserLoader>, id: string): Promise<User> {
  const user = await loader.load(id);
  if (!user) throw notFound('user not found');
  return user;
}
