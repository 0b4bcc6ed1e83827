import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, findBreakingChanges } from 'graphql';

/**
 * The committed SDL must contain the public API contract (test/fixtures/api-contract.graphql, a
 * copy of the contract at the time of writing): every type, field, argument and enum value with
 * the same types and nullability. graphql-js's findBreakingChanges(contract, ours) lists exactly
 * what a client written against the contract would miss.
 */
const contract = buildSchema(readFileSync(join(__dirname, '../fixtures/api-contract.graphql'), 'utf8'));
const ours = buildSchema(readFileSync(join(__dirname, '../../schema/schema.graphql'), 'utf8'));

/**
 * Parts of the contract that later capabilities deliver ([notify], [safety], [dx]), by the issue
 * that delivers them; none may be half-done. Delete a capability's lines when it lands.
 */
const NOT_YET: string[] = [];

it('the schema contains the API contract, apart from the capabilities not built yet', () => {
  const missing = findBreakingChanges(contract, ours).map((c) => c.description);
  const unexpected = missing.filter(
    (d) => !NOT_YET.some((name) => d.startsWith(`${name} `) || d.startsWith(`${name}.`)),
  );
  expect(unexpected).toEqual([]);
});

it('keeps the not-yet list honest: each entry is really missing', () => {
  const missing = findBreakingChanges(contract, ours).map((c) => c.description);
  for (const name of NOT_YET)
    expect(missing.some((d) => d.startsWith(`${name} `) || d.startsWith(`${name}.`))).toBe(true);
});
