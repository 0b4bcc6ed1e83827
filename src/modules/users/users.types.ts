import { ObjectType } from 'type-graphql';
import { connectionTypes } from '../../shared/connection.types';
import { User } from './user.entity';

@ObjectType()
export class UserConnection extends connectionTypes('User', User) {}
