import { badInput } from './errors';

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `value` cannot be stored as sent, or `null` when it can: a NUL character (PostgreSQL text
 * cannot hold U+0000) or a lone UTF-16 surrogate (not a Unicode string; PostgreSQL would get a
 * U+FFFD instead). Invalid UTF-8 never reaches here: the transports refuse such bodies and frames.
 */
export function stringProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(value)) return 'contains a lone surrogate (not valid Unicode)';
  return null;
}

/**
 * Checks every string inside `value` (objects and arrays walked) with {@link stringProblem}.
 * @param field - the argument's name; a string inside an input object is named by its own field
 *   (`body` of `input`), as the services name fields.
 * @throws DomainError BAD_USER_INPUT naming the field of the first bad string.
 */
export function checkStrings(value: unknown, field: string): void {
  if (typeof value === 'string') {
    const problem = stringProblem(value);
    if (problem) throw badInput(`${field} ${problem}`, field);
  } else if (Array.isArray(value)) {
    for (const item of value) checkStrings(item, field);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) checkStrings(item, key);
  }
}
