import type { AuthChecker } from 'type-graphql';
import type { Context } from './context';
import { unauthenticated } from './errors';

/**
 * type-graphql's `@Authorized()` check: authentication only. Authorization (membership) is the
 * services' job, at the resource. A viewer-blind context (a subscription event shared by
 * authenticated subscribers) passes without reading the viewer.
 *
 * @throws DomainError UNAUTHENTICATED (HTTP status 401) without a viewer: the reason the token
 *   was refused when one was presented ({@link Context.authFailure}), else "Authentication
 *   required" (rather than type-graphql's own AuthenticationError and its message).
 */
export const authChecker: AuthChecker<Context> = ({ context }) => {
  if (context.viewerBlind === true || context.user !== null) return true;
  throw context.authFailure ?? unauthenticated(MISSING_TOKEN);
};

const MISSING_TOKEN = 'Authentication required: send Authorization: Bearer <token> (from login or register)';
