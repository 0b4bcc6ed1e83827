import type { AuthChecker } from 'type-graphql';
import type { Context } from './context';

/**
 * type-graphql's `@Authorized()` check: authentication only. Authorization (membership) is the
 * services' job, at the resource. A failed check answers UNAUTHENTICATED.
 */
export const authChecker: AuthChecker<Context> = ({ context }) => context.user !== null;
