import type { DataSource } from 'typeorm';
import { keyedLoader, type LoaderOptions } from '../../shared/loader';
import { Message } from './message.entity';

/** The newest message of each conversation (joined on `conversations.last_seq`), one query per batch. */
export function createLastMessageLoader(ds: DataSource, options: LoaderOptions) {
  return keyedLoader<string, Message>(
    (ids) =>
      ds
        .getRepository(Message)
        .createQueryBuilder('m')
        .innerJoin('conversations', 'c', 'c.id = m.conversation_id AND c.last_seq = m.seq')
        .where('c.id = ANY(:ids)', { ids })
        .getMany(),
    (m) => m.conversationId,
    options,
  );
}
