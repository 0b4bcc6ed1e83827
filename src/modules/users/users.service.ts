import type { DataSource } from 'typeorm';
import { checkFirst, decodeCursor, encodeCursor, toPage, type Page } from '../../shared/pagination';
import { badInput } from '../../shared/errors';
import { User } from './user.entity';

const CURSOR = 'user';

/** Reading users: the directory (`users`) ordered by username. */
export class UsersService {
  constructor(private readonly ds: DataSource) {}

  /**
   * A page of users ordered by lower-cased username (then id), optionally those whose username
   * or displayName starts with `search` (case-insensitive).
   * @throws DomainError BAD_USER_INPUT for `first` outside 1..100, a bad cursor, or a search over
   *   64 characters.
   */
  async list(args: { first: number; after?: string | null; search?: string | null }): Promise<Page<User>> {
    const first = checkFirst(args.first);
    const qb = this.ds.getRepository(User).createQueryBuilder('u');
    if (args.search != null && args.search !== '') {
      if (args.search.length > 64) throw badInput('search must be at most 64 characters', 'search');
      const prefix = args.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
      qb.andWhere('(lower(u.username) LIKE :prefix OR lower(u.displayName) LIKE :prefix)', { prefix });
    }
    if (args.after) {
      const [name, id] = decodeCursor<[string, string]>(args.after, CURSOR, ['string', 'string']);
      qb.andWhere('(lower(u.username), u.id) > (:name, :id)', { name, id });
    }
    const rows = await qb.orderBy('lower(u.username)').addOrderBy('u.id').limit(first + 1).getMany();
    return toPage(rows, first);
  }

  /** The opaque cursor of a user in {@link list}. */
  cursorOf(user: User): string {
    return encodeCursor(CURSOR, [user.username.toLowerCase(), user.id]);
  }
}
