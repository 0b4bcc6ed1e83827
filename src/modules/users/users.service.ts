import type { Db } from '../../db/sql';
import { badInput } from '../../shared/errors';
import { checkFirst, decodeCursor, encodeCursor, toPage, type Page } from '../../shared/pagination';
import type { User } from './user.entity';
import { selectUserPage, selectUsersByIds } from './users.sql';

const CURSOR = 'user';
/** Longest `search` of {@link UsersService.list}, in characters. */
const SEARCH_MAX = 64;

/** Reading users: by id (the user loader) and the directory (`Query.users`) ordered by username. */
export class UsersService {
  constructor(private readonly db: Db) {}

  /** The users with these ids, in no particular order; unknown ids are missing (one query). */
  byIds(ids: readonly string[]): Promise<User[]> {
    return selectUsersByIds(this.db.sql, ids);
  }

  /**
   * A page of users ordered by lower-cased username (then id), optionally those whose username
   * or displayName starts with `search` (case-insensitive).
   * @throws DomainError BAD_USER_INPUT for `first` outside 1..100, a bad cursor, or a search over
   *   64 characters.
   */
  async list(args: { first: number; after?: string | null; search?: string | null }): Promise<Page<User>> {
    const first = checkFirst(args.first);
    let search: string | undefined;
    if (args.search != null && args.search !== '') {
      if (args.search.length > SEARCH_MAX) throw badInput(`search must be at most ${SEARCH_MAX} characters`, 'search');
      search = args.search;
    }
    let after: { name: string; id: string } | undefined;
    if (args.after) {
      const [name, id] = decodeCursor<[string, string]>(args.after, CURSOR, ['string', 'string']);
      after = { name, id };
    }
    const rows = await selectUserPage(this.db.sql, { limit: first + 1, search, after });
    return toPage(rows, first);
  }

  /** The opaque cursor of a user in {@link list}. */
  cursorOf(user: User): string {
    return encodeCursor(CURSOR, [user.username.toLowerCase(), user.id]);
  }
}
