import { EntitySchema } from 'typeorm';

/**
 * The peer's TypeORM entities over the tables Parley's migrations create (the bench seeds users
 * and conversations there, so both servers answer for the same data). EntitySchema rather than
 * decorators only because the peer runs under ts-node's transpile-only mode, which emits no
 * decorator metadata; the mapping is the same.
 */
export interface UserRow {
  id: string;
  username: string;
  displayName: string;
  createdAt: Date;
}

export interface ConversationRow {
  id: string;
  lastSeq: number;
  lastActivityAt: Date;
}

export interface ParticipantRow {
  conversationId: string;
  userId: string;
}

export interface MessageRow {
  id: string;
  conversationId: string;
  senderId: string;
  seq: number;
  body: string;
  clientMessageId: string | null;
  createdAt: Date;
  sender?: UserRow;
}

export const User = new EntitySchema<UserRow>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    username: { type: 'text' },
    displayName: { type: 'text', name: 'display_name' },
    createdAt: { type: 'timestamptz', name: 'created_at', createDate: true },
  },
});

export const Conversation = new EntitySchema<ConversationRow>({
  name: 'Conversation',
  tableName: 'conversations',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    lastSeq: { type: 'int', name: 'last_seq' },
    lastActivityAt: { type: 'timestamptz', name: 'last_activity_at' },
  },
});

export const Participant = new EntitySchema<ParticipantRow>({
  name: 'Participant',
  tableName: 'conversation_participants',
  columns: {
    conversationId: { type: 'uuid', primary: true, name: 'conversation_id' },
    userId: { type: 'uuid', primary: true, name: 'user_id' },
  },
});

export const Message = new EntitySchema<MessageRow>({
  name: 'Message',
  tableName: 'messages',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    conversationId: { type: 'uuid', name: 'conversation_id' },
    senderId: { type: 'uuid', name: 'sender_id' },
    seq: { type: 'int' },
    body: { type: 'text' },
    clientMessageId: { type: 'text', name: 'client_message_id', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at', createDate: true },
  },
  relations: {
    sender: { type: 'many-to-one', target: 'User', joinColumn: { name: 'sender_id' } },
  },
});
