import { InitialSchema1763800000000 } from './1763800000000-initial-schema';
import { PresenceAndReadReceipts1763900000000 } from './1763900000000-presence-and-read-receipts';
import { Sessions1764000000000 } from './1764000000000-sessions';

/** Every migration, oldest first. Listed explicitly so that ts-node, jest and compiled code agree. */
export const migrations = [InitialSchema1763800000000, PresenceAndReadReceipts1763900000000, Sessions1764000000000];
