import {
  RegisterDocument,
  StartConversationDocument,
  type RegisterMutation,
  type StartConversationMutation,
} from '../../src/client/generated';
import { ok } from './clients';
import type { Instance } from './server';

/**
 * Factories of the rows most tests start from, made through the real API (register,
 * startConversation) so that they are exactly what a client would have.
 */

/** A registered user with a live token and the password it was registered with. */
export type TestUser = RegisterMutation['register']['user'] & { token: string; password: string };

/** What a test may fix of a user; the rest is made up. */
export interface UserOverrides {
  /** The start of the made-up unique username (default `user`); ignored when `username` is given. */
  prefix?: string;
  username?: string;
  /** Default `password123`. */
  password?: string;
  displayName?: string;
}

let userCounter = 0;

/** Registers a user, by default with a unique username starting with `overrides.prefix`. */
export async function buildUser(server: Pick<Instance, 'url'>, overrides: UserOverrides = {}): Promise<TestUser> {
  const { prefix = 'user', password = 'password123', displayName } = overrides;
  const username =
    overrides.username ?? `${prefix}${process.pid}_${++userCounter}_${Math.floor(Math.random() * 1e6)}`.slice(0, 32);
  const { register } = await ok(server, RegisterDocument, { input: { username, password, displayName } });
  return { ...register.user, token: register.token, password };
}

/** A conversation as startConversation returns it. */
export type TestConversation = StartConversationMutation['startConversation'];

/** What a test may fix of a conversation. */
export interface ConversationOverrides {
  title?: string;
}

/**
 * Starts the conversation of `owner` and `others` (one user for a direct conversation, several
 * for a group), as `owner`; an existing conversation of the same participants is returned as is.
 */
export async function buildConversation(
  server: Pick<Instance, 'url'>,
  owner: TestUser,
  others: TestUser | readonly TestUser[],
  overrides: ConversationOverrides = {},
): Promise<TestConversation> {
  const list: readonly TestUser[] = Array.isArray(others) ? (others as readonly TestUser[]) : [others as TestUser];
  const participantIds = list.map((u) => u.id);
  const { startConversation } = await ok(
    server,
    StartConversationDocument,
    { participantIds, title: overrides.title },
    owner.token,
  );
  return startConversation;
}
