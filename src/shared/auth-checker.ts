import type { AuthChecker } from 'type-graphql';
import type { Context } from './context';

/**
 * type-graphql's `@Authorized()` check: authentication only. Authorization (membership) is the
 * services' job, at the resource. A failed check answers UNAUTHENTICATED. A viewer-blind context
 * (a subscription event shared by authenticated subscribers) passes without reading the viewer.
 */
export const authChecker: AuthChecker<Context> = ({ context }) => context.viewerBlind === true || context.user !== null;
