import type { DataSource } from 'typeorm';
import { groupedLoader, keyedLoader, type LoaderOptions } from '../../shared/loader';
import { Conversation } from './conversation.entity';
import { Participant } from './participant.entity';

/** Conversations by id, one query per batch. */
export function createConversationLoader(ds: DataSource, options: LoaderOptions) {
  return keyedLoader<string, Conversation>(
    (ids) => ds.getRepository(Conversation).createQueryBuilder('c').where('c.id = ANY(:ids)', { ids }).getMany(),
    (c) => c.id,
    options,
  );
}

/** Participant user ids of each conversation, sorted by id, one query per batch. */
export function createParticipantIdsLoader(ds: DataSource, options: LoaderOptions) {
  return groupedLoader<string, Participant>(
    (ids) =>
      ds
        .getRepository(Participant)
        .createQueryBuilder('p')
        .where('p.conversationId = ANY(:ids)', { ids })
        .orderBy('p.userId')
        .getMany(),
    (p) => p.conversationId,
    options,
  );
}
