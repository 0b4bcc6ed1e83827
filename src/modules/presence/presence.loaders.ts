import DataLoader from 'dataloader';
import type { LoaderOptions } from '../../shared/loader';
import type { PresenceService } from './presence.service';
import type { Presence } from './presence.types';

/** Presence by user id: one presence store round trip and one SQL query per batch. */
export function createPresenceLoader(presence: PresenceService, options: LoaderOptions) {
  return new DataLoader<string, Presence | null>((ids) => presence.readMany(ids), { cache: options.cache });
}
