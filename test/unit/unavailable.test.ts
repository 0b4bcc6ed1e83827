import { DatabaseError } from 'pg';
import { GraphQLError } from 'graphql';
import { createErrorFormatter } from '../../src/shared/format-error';
import { createLogger } from '../../src/shared/logger';
import { isUnavailableError } from '../../src/shared/unavailable';

const pgError = (code: string) => Object.assign(new DatabaseError('boom', 0, 'error'), { code });
const system = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('isUnavailableError', () => {
  it.each([
    ['57P01 (terminated by an administrator)', pgError('57P01')],
    ['08006 (connection failure)', pgError('08006')],
    ['53300 (too many connections)', pgError('53300')],
    ['ECONNREFUSED', system('ECONNREFUSED')],
    ['node-postgres: Connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['pg-pool: connect timeout', new Error('timeout exceeded when trying to connect')],
    ['ioredis: no offline queue', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['ioredis: command timeout', new Error('Command timed out')],
    ['TypeORM wrapping a driver error', Object.assign(new Error('query failed'), { driverError: pgError('57P01') })],
    ['a GraphQL error around it', new GraphQLError('x', { originalError: system('ECONNRESET') })],
  ])('recognizes %s', (_name, err) => {
    expect(isUnavailableError(err)).toBe(true);
  });

  it.each([
    ['a unique violation', pgError('23505')],
    ['a syntax error', pgError('42601')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['nothing', undefined],
  ])('does not take %s for an outage', (_name, err) => {
    expect(isUnavailableError(err)).toBe(false);
  });
});

describe('the error formatter', () => {
  const format = createErrorFormatter(createLogger('silent'));

  it('answers an outage with SERVICE_UNAVAILABLE and retryAfterMs, a bug with INTERNAL_SERVER_ERROR', () => {
    const outage = format(new GraphQLError('terminating connection', { originalError: pgError('57P01'), path: ['x'] }));
    expect(outage).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterMs: 1000 }, path: ['x'] });
    expect(JSON.stringify(outage)).not.toMatch(/terminating/);
    const bug = format(new GraphQLError('oops', { originalError: new TypeError('oops') }));
    expect(bug.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });
});
