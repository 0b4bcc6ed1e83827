import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A migration file: `<13-digit timestamp>-<name>.ts` (`.js` once compiled). */
const MIGRATION_FILE = /^\d{13}-[\w-]+\.(ts|js)$/;

/**
 * Every migration class in this folder, oldest first. Files are found at run time (ts-node, jest
 * and compiled code alike), so a new migration is a new file here and nothing else; each file
 * exports one class.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM takes migration classes as `Function`
export const migrations: Function[] = readdirSync(__dirname)
  .filter((file) => MIGRATION_FILE.test(file) && !file.endsWith('.d.ts'))
  .sort()
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-function-type -- loaded by name at run time; TypeORM's type
  .map((file) => Object.values(require(join(__dirname, file)) as Record<string, Function>)[0]);
