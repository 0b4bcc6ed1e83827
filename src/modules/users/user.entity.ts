import { Field, ID, ObjectType } from 'type-graphql';
import { viewerIndependent } from '../../shared/viewer-independence';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A registered user. `passwordHash` is a column only: it has no GraphQL field. */
@ObjectType({ simpleResolvers: true })
@Entity({ name: 'users' })
export class User {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** 3-32 characters of [A-Za-z0-9_.-], unique case-insensitively. */
  @Field()
  @Column('text')
  username: string;

  /** 1-64 characters. */
  @Field()
  @Column('text', { name: 'display_name' })
  displayName: string;

  /** argon2id PHC string. */
  @Column('text', { name: 'password_hash', select: false })
  passwordHash: string;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/** The fields of User that every viewer sees alike. Not `presence`: what it shows depends on the viewer. */
export const userViewerIndependent = viewerIndependent(User, ['id', 'username', 'displayName', 'createdAt']);
