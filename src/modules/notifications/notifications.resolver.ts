import {
  Arg,
  Args,
  ArgsType,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { toConnection } from '../../shared/connection.types';
import type { AuthedContext, Context } from '../../shared/context';
import type { LiveStreamDeps } from '../../shared/live-stream';
import { Message } from '../messages/message.entity';
import { NotificationStream } from './notification-stream';
import { notificationMessageLoader } from './notifications.loaders';
import type { NotificationsService } from './notifications.service';
import {
  Notification,
  NotificationConnection,
  NotificationPreferences,
  NotificationPreferencesInput,
  PushSubscriptionInput,
} from './notifications.types';

@ArgsType()
class NotificationPageArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20 })
  first: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false })
  unreadOnly: boolean | null;
}

/** Queries, mutations and the subscription of notifications, and `Notification.message`. */
@Authorized()
@Resolver(() => Notification)
export class NotificationsResolver {
  constructor(
    private readonly service: NotificationsService,
    private readonly live: LiveStreamDeps,
  ) {}

  @Query(() => NotificationConnection, { description: '[notify]' })
  async notifications(
    @Args(() => NotificationPageArgs) args: NotificationPageArgs,
    @Ctx() ctx: AuthedContext,
  ): Promise<NotificationConnection> {
    const page = await this.service.list(ctx.user.id, {
      first: args.first ?? 20,
      after: args.after,
      unreadOnly: args.unreadOnly ?? false,
    });
    return { ...toConnection(page, (n) => this.service.cursorOf(n)), unreadCount: page.unreadCount };
  }

  @Query(() => NotificationPreferences, { description: '[notify]' })
  notificationPreferences(@Ctx() ctx: AuthedContext): Promise<NotificationPreferences> {
    return this.service.preferences(ctx.user.id);
  }

  @Mutation(() => Int, { description: '[notify] null marks all; returns how many changed' })
  markNotificationsRead(
    @Arg('ids', () => [ID], { nullable: true }) ids: string[] | null | undefined,
    @Ctx() ctx: AuthedContext,
  ): Promise<number> {
    return this.service.markRead(ctx.user.id, ids ?? null);
  }

  @Mutation(() => NotificationPreferences, { description: '[notify]' })
  updateNotificationPreferences(
    @Arg('input', () => NotificationPreferencesInput) input: NotificationPreferencesInput,
    @Ctx() ctx: AuthedContext,
  ): Promise<NotificationPreferences> {
    return this.service.updatePreferences(ctx.user.id, input);
  }

  @Mutation(() => NotificationPreferences, { description: '[notify]' })
  muteConversation(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('muted', () => Boolean) muted: boolean,
    @Ctx() ctx: AuthedContext,
  ): Promise<NotificationPreferences> {
    return this.service.mute(ctx.user.id, conversationId, muted);
  }

  @Mutation(() => Boolean, {
    description:
      "[notify] stores this browser's Web Push subscription for the viewer (the same endpoint again updates its keys)",
  })
  registerPushSubscription(
    @Arg('input', () => PushSubscriptionInput) input: PushSubscriptionInput,
    @Ctx() ctx: AuthedContext,
  ): Promise<boolean> {
    return this.service.registerPush(ctx.user.id, input);
  }

  @Mutation(() => Boolean, { description: '[notify] false when the viewer had no such subscription' })
  unregisterPushSubscription(@Arg('endpoint') endpoint: string, @Ctx() ctx: AuthedContext): Promise<boolean> {
    return this.service.unregisterPush(ctx.user.id, endpoint);
  }

  @Subscription(() => Notification, {
    description: '[notify]',
    subscribe: ({ context }) =>
      (context as Context).container.get(NotificationsResolver).subscribeNotificationAdded(context as AuthedContext),
  })
  notificationAdded(@Root() notification: Notification): Notification {
    return notification;
  }

  /** The `subscribe` of notificationAdded: the viewer's own topic only. */
  subscribeNotificationAdded(ctx: AuthedContext): AsyncIterable<Notification> {
    return new NotificationStream(this.live, ctx.user.id);
  }

  @FieldResolver(() => Message, { nullable: true })
  async message(@Root() n: Notification, @Ctx() ctx: AuthedContext): Promise<Message | null> {
    return n.messageId ? ctx.loaders.get(notificationMessageLoader).load(n.messageId) : null;
  }
}

/** `webPushPublicKey`: answered without a token (a browser needs it before anyone signs in). */
@Resolver()
export class WebPushKeyResolver {
  constructor(private readonly service: NotificationsService) {}

  @Query(() => String, {
    nullable: true,
    description:
      '[notify] the VAPID public key (base64url) a browser passes as applicationServerKey; null when Web Push is not configured',
  })
  webPushPublicKey(): string | null {
    return this.service.webPushPublicKey();
  }
}
