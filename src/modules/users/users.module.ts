import { defineModule } from '../module';
import { User, userViewerIndependent } from './user.entity';
import { UsersResolver } from './users.resolver';
import { UsersService } from './users.service';

/**
 * Users: `me`, `user(id)` and the `users` directory, and the user loader (users.loaders.ts) other
 * modules resolve senders, participants and readers with. Owns the `users` table; rows are
 * created by the auth module's `register`.
 */
export const usersModule = defineModule({
  name: 'users',
  resolvers: [UsersResolver],
  entities: [User],
  viewerIndependent: [userViewerIndependent],
  build({ db }) {
    const users = new UsersService(db);
    return { provides: [users, new UsersResolver(users)] };
  },
});
