/** The viewer blocked or unblocked a user. */
export interface BlockChangedPayload {
  blockedId: string;
  blocked: boolean;
}

/** {@link BlockChangedPayload}s of one blocker (their live streams filter by them). */
export const userBlocksTopic = (blockerId: string) => `user.${blockerId}.blocks`;
