import { badInput } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks that an `ID` argument is a UUID (every Parley id is one) and returns it lower-cased.
 * @throws DomainError BAD_USER_INPUT naming `field` otherwise.
 */
export function checkId(id: string, field: string): string {
  if (typeof id !== 'string' || !UUID.test(id)) throw badInput(`${field} is not a valid ID`, field);
  return id.toLowerCase();
}
