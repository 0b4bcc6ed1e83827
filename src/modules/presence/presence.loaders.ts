import DataLoader from 'dataloader';
import { defineLoader } from '../../shared/loader';
import { PresenceService } from './presence.service';
import type { Presence } from './presence.types';

/**
 * Presence by user id (`null` for an id with no user): one presence store round trip and one SQL
 * query per batch.
 */
export const presenceLoader = defineLoader(
  'presence',
  ({ container }, options) =>
    new DataLoader<string, Presence | null>((ids) => container.get(PresenceService).readMany(ids), {
      cache: options.cache,
    }),
);
