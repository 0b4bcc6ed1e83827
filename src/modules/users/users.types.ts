import { ObjectType } from 'type-graphql';
import { connectionTypes } from '../../shared/connection.types';
import { User } from './user.entity';

@ObjectType({ simpleResolvers: true })
export class UserConnection extends connectionTypes('User', User) {}
