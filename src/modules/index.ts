import { authModule } from './auth/auth.module';
import { conversationsModule } from './conversations/conversations.module';
import { messagesModule } from './messages/messages.module';
import { notificationsModule } from './notifications/notifications.module';
import type { ParleyModule } from './module';
import { presenceModule } from './presence/presence.module';
import { readReceiptsModule } from './read-receipts/read-receipts.module';
import { safetyModule } from './safety/safety.module';
import { typingModule } from './typing/typing.module';
import { usersModule } from './users/users.module';

/**
 * Every feature of the server, one line each. A module may use the services of the modules above
 * it; the composition root (src/app/server.ts) builds and starts them in this order.
 */
export const modules: readonly ParleyModule[] = [
  safetyModule,
  authModule,
  usersModule,
  conversationsModule,
  messagesModule,
  presenceModule,
  typingModule,
  readReceiptsModule,
  notificationsModule,
];
