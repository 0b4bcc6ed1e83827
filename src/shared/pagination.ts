import { badInput } from './errors';
import { checkId } from './ids';
import { stringProblem } from './strings';

/** Most items one page may ask for. */
export const MAX_PAGE_SIZE = 100;

/**
 * Checks a Connection's `first` argument.
 *
 * @param first - requested page size (items).
 * @param max - the largest page allowed (items).
 * @throws DomainError BAD_USER_INPUT when `first` is not within 1..max.
 */
export function checkFirst(first: number, max = MAX_PAGE_SIZE): number {
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw badInput(`first must be between 1 and ${max}`, 'first');
  }
  return first;
}

/**
 * Encodes a keyset position as an opaque cursor: base64url of a JSON array tagged with its kind,
 * so a cursor from one list is refused by another (Relay's cursor connections spec treats
 * cursors as opaque strings).
 */
export function encodeCursor(kind: string, key: Array<string | number>): string {
  return Buffer.from(JSON.stringify([kind, ...key]), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor}.
 *
 * @param kind - the list's tag; a cursor of another kind is refused.
 * @param shape - the expected type of each key part.
 * @throws DomainError BAD_USER_INPUT (field `after`) for anything that is not such a cursor,
 *   including numbers outside 0..2^31-1 and strings PostgreSQL cannot hold.
 */
export function decodeCursor<T extends Array<string | number>>(
  cursor: string,
  kind: string,
  shape: { [K in keyof T]: T[K] extends number ? 'number' : 'string' },
): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badInput('after is not a valid cursor', 'after');
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== kind ||
    parsed.length !== shape.length + 1 ||
    !(shape as string[]).every(
      (t, i) => typeof parsed[i + 1] === t && (t === 'number' ? isPosition(parsed[i + 1]) : isText(parsed[i + 1])),
    )
  ) {
    throw badInput('after is not a valid cursor', 'after');
  }
  return parsed.slice(1) as T;
}

/** Largest position a cursor may hold: positions (seqs) are PostgreSQL `integer`s. */
const MAX_POSITION = 2_147_483_647;
const isPosition = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= MAX_POSITION;
const isText = (s: unknown): boolean => stringProblem(s as string) === null;

/** A page read with one extra row: `hasNextPage` is exact without a count query. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
}

/** Splits the `first + 1` rows of a keyset query into a {@link Page}. */
export function toPage<T>(rows: T[], first: number): Page<T> {
  return { items: rows.slice(0, first), hasNextPage: rows.length > first };
}

/**
 * Decodes a cursor of `kind` holding an ISO time and an id (a keyset by time, then id).
 * @throws DomainError BAD_USER_INPUT (field `after`) when it is malformed.
 */
export function decodeTimeIdCursor(cursor: string, kind: string): { at: string; id: string } {
  const [at, id] = decodeCursor<[string, string]>(cursor, kind, ['string', 'string']);
  if (Number.isNaN(Date.parse(at))) throw badInput('after is not a valid cursor', 'after');
  return { at, id: checkId(id, 'after') };
}
