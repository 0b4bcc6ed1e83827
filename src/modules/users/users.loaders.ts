import type { DataSource } from 'typeorm';
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
