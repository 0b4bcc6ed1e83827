import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { modules } from '../modules';
import { buildParleySchema } from './schema';

/** The SDL emitted from the type-graphql classes, sorted so that diffs show only real changes. */
export async function printCurrentSchema(): Promise<string> {
  return printSchema(lexicographicSortSchema(await buildParleySchema(modules))) + '\n';
}

/**
 * `npm run schema:emit` writes schema/schema.graphql; `npm run check:schema` (`--check`) exits 1
 * when the committed file differs from what the code emits.
 */
async function main(): Promise<void> {
  const file = join(process.cwd(), 'schema', 'schema.graphql');
  const sdl = await printCurrentSchema();
  if (process.argv.includes('--check')) {
    const committed = await readFile(file, 'utf8').catch(() => '');
    if (committed !== sdl) {
      console.error(
        'schema/schema.graphql differs from the schema the code emits: run `npm run schema:emit` and commit it.',
      );
      process.exit(1);
    }
    console.log('schema/schema.graphql matches the code.');
    return;
  }
  await writeFile(file, sdl);
  console.log(`wrote ${file}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
