import { ObjectType } from 'type-graphql';
import { connectionTypes } from '../../shared/connection.types';
import { Conversation } from './conversation.entity';

/** A page of `Query.conversations` (Relay connection: edges with cursors, pageInfo). */
@ObjectType({ simpleResolvers: true })
export class ConversationConnection extends connectionTypes('Conversation', Conversation) {}
