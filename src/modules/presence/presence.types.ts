import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

/** A user's presence status. */
export enum PresenceStatus {
  ONLINE = 'ONLINE',
  AWAY = 'AWAY',
  OFFLINE = 'OFFLINE',
}

registerEnumType(PresenceStatus, { name: 'PresenceStatus' });

/**
 * A user's live presence. `user` and `activeConversationId` are field resolvers
 * (presence.resolver.ts): the latter is shown only to participants of that conversation.
 */
@ObjectType({ simpleResolvers: true })
export class Presence {
  @Field(() => ID)
  userId: string;

  @Field(() => PresenceStatus, { description: 'OFFLINE when the user has no live connection on any instance' })
  status: PresenceStatus;

  @Field(() => Int, { description: 'live WebSocket connections of this user across all instances' })
  connectionCount: number;

  @Field(() => Date, { nullable: true, description: 'last time the user had a live connection; null if never' })
  lastSeenAt: Date | null;

  /** Unmasked; the GraphQL field hides it from non-participants. */
  activeConversationId: string | null;

  /** Orders the changes of one user (not exposed). */
  version: number;
}
