import { createHash } from 'node:crypto';
import type { ParleyServer } from '../../src/app/server';
import { useTwoInstances } from '../support/server';

const setup = useTwoInstances();
let a: ParleyServer;
let b: ParleyServer;
beforeAll(() => ({ a, b } = setup));

/** A GraphQL POST with Apollo's persisted-query extension. */
async function post(server: ParleyServer, hash: string, query?: string) {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
  });
  return (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
}

it('knows on one instance a persisted query registered on the other (through Redis)', async () => {
  const query = `{ __typename apq: __typename }`;
  const hash = createHash('sha256').update(query).digest('hex');
  expect((await post(b, hash)).errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  expect(await post(a, hash, query)).toEqual({ data: { __typename: 'Query', apq: 'Query' } });
  expect(await post(b, hash)).toEqual({ data: { __typename: 'Query', apq: 'Query' } });
});
