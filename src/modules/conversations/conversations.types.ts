import { ObjectType } from 'type-graphql';
import { connectionTypes } from '../../shared/connection.types';
import { Conversation } from './conversation.entity';

@ObjectType({ simpleResolvers: true })
export class ConversationConnection extends connectionTypes('Conversation', Conversation) {}
