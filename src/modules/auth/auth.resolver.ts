import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { AuthedContext } from '../../shared/context';
import { AuthPayload, LoginInput, RegisterInput } from './auth.types';
import type { AuthService } from './auth.service';

/** `register`, `login`, `refreshToken` and `logout`: the mutations that make, renew and revoke tokens. */
@Resolver()
export class AuthResolver {
  constructor(private readonly auth: AuthService) {}

  @Mutation(() => AuthPayload, { description: '[core] CONFLICT when the username is taken' })
  register(@Arg('input', () => RegisterInput) input: RegisterInput): Promise<AuthPayload> {
    return this.auth.register(input);
  }

  @Mutation(() => AuthPayload, {
    description: '[core] UNAUTHENTICATED with one message for unknown user and wrong password alike',
  })
  login(@Arg('input', () => LoginInput) input: LoginInput): Promise<AuthPayload> {
    return this.auth.login(input);
  }

  @Authorized()
  @Mutation(() => AuthPayload, {
    description:
      "[dx] a new token for the viewer's session with a fresh expiry; the current token stays valid until its own expiry",
  })
  refreshToken(@Ctx() ctx: AuthedContext): Promise<AuthPayload> {
    return this.auth.refresh(ctx.user.id, ctx.session);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: '[core] revokes this token at once on every instance; its open WebSockets are closed',
  })
  async logout(@Ctx() ctx: AuthedContext): Promise<boolean> {
    await this.auth.logout(ctx.session);
    return true;
  }
}
