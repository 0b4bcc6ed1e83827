import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../shared/connection.types';

/** What a notification is about. */
export enum NotificationKind {
  NEW_MESSAGE = 'NEW_MESSAGE',
  ADDED_TO_CONVERSATION = 'ADDED_TO_CONVERSATION',
}

registerEnumType(NotificationKind, {
  name: 'NotificationKind',
  valuesConfig: {
    NEW_MESSAGE: { description: 'a message from someone else (message is set)' },
    ADDED_TO_CONVERSATION: {
      description: 'someone started a conversation that includes the recipient (message is null)',
    },
  },
});

/** When a user wants to be notified of messages. */
export enum NotifyWhen {
  ALWAYS = 'ALWAYS',
  WHEN_AWAY = 'WHEN_AWAY',
  NEVER = 'NEVER',
}

registerEnumType(NotifyWhen, {
  name: 'NotifyWhen',
  valuesConfig: {
    ALWAYS: { description: 'every message from others' },
    WHEN_AWAY: {
      description: 'only when the recipient is offline, AWAY, or not viewing that conversation (default)',
    },
  },
});

/** A stored notification of one recipient. `message` is a field resolver (notifications.resolver.ts). */
@ObjectType({ simpleResolvers: true })
export class Notification {
  @Field(() => ID)
  id: string;

  @Field(() => NotificationKind)
  kind: NotificationKind;

  @Field(() => ID)
  conversationId: string;

  /** The message's id for NEW_MESSAGE, else `null`. Not a field: `message` resolves it. */
  messageId: string | null;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  readAt: Date | null;
}

@ObjectType({ simpleResolvers: true })
export class NotificationConnection extends connectionTypes('Notification', Notification) {
  @Field(() => Int)
  unreadCount: number;
}

@ObjectType({ simpleResolvers: true })
export class NotificationPreferences {
  @Field(() => NotifyWhen)
  notifyWhen: NotifyWhen;

  @Field(() => [ID])
  mutedConversationIds: string[];
}

@InputType()
export class NotificationPreferencesInput {
  @Field(() => NotifyWhen, { nullable: true })
  notifyWhen?: NotifyWhen | null;
}

@InputType({ description: "A browser's Web Push subscription, as PushSubscription.toJSON() gives it." })
export class PushSubscriptionInput {
  @Field({ description: 'the push service URL' })
  endpoint: string;

  @Field({ description: 'keys.p256dh, base64url' })
  p256dh: string;

  @Field({ description: 'keys.auth, base64url' })
  auth: string;
}
