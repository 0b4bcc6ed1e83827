import { GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { createSharedSubscribe } from '../../src/execution/shared-subscribe';
import { pushIterator } from '../support/push-iterator';

/**
 * The subscribe of the WebSocket server over a schema of its own: a `Message` event type whose
 * fields are viewer-independent, one field served by a PushStream (as Parley's are) and one by an
 * async generator (any other source).
 */
const Message = new GraphQLObjectType({
  name: 'Message',
  fields: { id: { type: GraphQLString }, body: { type: GraphQLString } },
});
let pushEvent: ((event: object) => Promise<void>) | null = null;
let generatorReturned = false;
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      messageAdded: {
        type: Message,
        subscribe: () =>
          pushIterator<object>(async (push, stop) => {
            pushEvent = push;
            await stop;
          }),
        resolve: (event: unknown) => event,
      },
      fromGenerator: {
        type: Message,
        subscribe: async function* () {
          try {
            yield { id: '1', body: 'one' };
            yield { id: '2', body: 'two' };
            await new Promise(() => undefined);
          } finally {
            generatorReturned = true;
          }
        },
        resolve: (event: unknown) => event,
      },
    },
  }),
});

const subscribe = createSharedSubscribe(schema, [{ typeName: 'Message', fields: ['id', 'body'] }]);
const iterate = async (query: string) =>
  (await subscribe({ schema, document: parse(query) })) as AsyncIterableIterator<ExecutionResult>;

describe('createSharedSubscribe', () => {
  it('gives subscribers of one viewer-independent document the same result object for one event', async () => {
    const document = parse('subscription { messageAdded { id body } }');
    const a = (await subscribe({ schema, document })) as AsyncIterableIterator<ExecutionResult>;
    const nextA = a.next();
    const pushA = pushEvent!;
    const b = (await subscribe({ schema, document })) as AsyncIterableIterator<ExecutionResult>;
    const nextB = b.next();
    const pushB = pushEvent!;
    const event = { id: 'm1', body: 'hello' };
    void pushA(event);
    void pushB(event);
    const [ra, rb] = [await nextA, await nextB];
    expect(ra.value).toEqual({ data: { messageAdded: { id: 'm1', body: 'hello' } } });
    expect(rb.value).toBe(ra.value);
    await Promise.all([a.return!(), b.return!()]);
  });

  it('maps a source that is not a PushStream too, and stops it on return()', async () => {
    const it = await iterate('subscription { fromGenerator { body } }');
    expect((await it.next()).value).toEqual({ data: { fromGenerator: { body: 'one' } } });
    expect((await it.next()).value).toEqual({ data: { fromGenerator: { body: 'two' } } });
    await it.return!();
    expect(generatorReturned).toBe(true);
  });

  it('answers a subscribe that fails with its errors, as graphql-js does', async () => {
    const result = (await subscribe({ schema, document: parse('subscription { nope }') })) as ExecutionResult;
    expect(result.errors?.length).toBeGreaterThan(0);
  });
});
