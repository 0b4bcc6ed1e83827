import { ObjectType } from 'type-graphql';
import { connectionTypes } from '../../shared/connection.types';
import { User } from './user.entity';

/** A page of `Query.users` (Relay-style edges and pageInfo). */
@ObjectType({ simpleResolvers: true })
export class UserConnection extends connectionTypes('User', User) {}
