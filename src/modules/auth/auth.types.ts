import { Field, InputType, ObjectType } from 'type-graphql';
import { User } from '../users/user.entity';

/** What `register` and `login` return: a token, its expiry and the user. */
@ObjectType({ simpleResolvers: true })
export class AuthPayload {
  @Field({ description: 'JWT for the Authorization header and the WebSocket connection_init payload' })
  token: string;

  @Field()
  expiresAt: Date;

  @Field(() => User)
  user: User;
}

/** The input of `register`. */
@InputType()
export class RegisterInput {
  @Field({ description: '3-32 chars of [A-Za-z0-9_.-], unique case-insensitively' })
  username: string;

  @Field({ description: '8-128 chars' })
  password: string;

  @Field(() => String, { nullable: true, description: 'defaults to username; 1-64 chars' })
  displayName?: string | null;
}

/** The input of `login`. */
@InputType()
export class LoginInput {
  @Field()
  username: string;

  @Field()
  password: string;
}
