import { GraphQLError } from 'graphql';
import { checkFirst, decodeCursor, encodeCursor, toPage } from '../../src/shared/pagination';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as GraphQLError).extensions.code;
  }
  return 'no error';
};

describe('cursors', () => {
  it('round-trip a keyset position and are opaque strings', () => {
    const cursor = encodeCursor('message', [42]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor<[number]>(cursor, 'message', ['number'])).toEqual([42]);
  });

  it("refuse another list's cursor, a wrong shape and garbage with BAD_USER_INPUT", () => {
    const user = encodeCursor('user', ['bob', 'id']);
    expect(code(() => decodeCursor<[number]>(user, 'message', ['number']))).toBe('BAD_USER_INPUT');
    expect(code(() => decodeCursor<[number]>(encodeCursor('message', ['x']), 'message', ['number']))).toBe(
      'BAD_USER_INPUT',
    );
    expect(code(() => decodeCursor<[number]>(encodeCursor('message', [1.5]), 'message', ['number']))).toBe(
      'BAD_USER_INPUT',
    );
    expect(code(() => decodeCursor<[number]>('%%%', 'message', ['number']))).toBe('BAD_USER_INPUT');
    expect(
      code(() => decodeCursor<[number]>(Buffer.from('{"a":1}').toString('base64url'), 'message', ['number'])),
    ).toBe('BAD_USER_INPUT');
  });
});

describe('pages', () => {
  it('checkFirst accepts 1..100 only', () => {
    expect(checkFirst(1)).toBe(1);
    expect(checkFirst(100)).toBe(100);
    for (const n of [0, 101, 2.5, -3]) expect(code(() => checkFirst(n))).toBe('BAD_USER_INPUT');
  });

  it('toPage tells hasNextPage from the extra row', () => {
    expect(toPage([1, 2, 3], 2)).toEqual({ items: [1, 2], hasNextPage: true });
    expect(toPage([1, 2], 2)).toEqual({ items: [1, 2], hasNextPage: false });
  });
});
