import { GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { createSharedSubscribe, type ResultSink } from '../../src/execution/shared-subscribe';
import { stampCommitted } from '../../src/shared/committed-at';
import { pushIterator } from '../support/push-iterator';

/**
 * The subscribe of the WebSocket server over a schema of its own: a `Message` event type whose
 * fields are viewer-independent, one field served by a PushStream (as Parley's are) and one by an
 * async generator (any other source).
 */
const Message = new GraphQLObjectType({
  name: 'Message',
  fields: { id: { type: GraphQLString }, body: { type: GraphQLString }, late: { type: GraphQLString } },
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

  it('writes results to a sink in event order, and settles its next() once the stream ended', async () => {
    const written: Array<{ id: string; data: unknown; committedAt: number }> = [];
    const sink: ResultSink = {
      writeResult: (id, result, committedAt) => written.push({ id, data: result.data, committedAt }),
    };
    const it = (await subscribe({
      schema,
      document: parse('subscription { messageAdded { id late } }'),
      resultSink: sink,
      subscriptionId: 's1',
    } as Parameters<typeof subscribe>[0])) as AsyncIterableIterator<ExecutionResult>;
    const ended = it.next();
    const push = pushEvent!;
    let release!: (value: string) => void;
    // The first event's result waits for a field; the second, ready at once, must not overtake it.
    void push({ id: 'm1', late: new Promise<string>((resolve) => (release = resolve)) });
    void push({ id: 'm2', late: 'now' });
    expect(written).toEqual([]);
    release('later');
    await new Promise((r) => setImmediate(r));
    expect(written.map((w) => w.data)).toEqual([
      { messageAdded: { id: 'm1', late: 'later' } },
      { messageAdded: { id: 'm2', late: 'now' } },
    ]);
    // Nothing queued: written in the call that pushes it, with its commit time.
    void push(stampCommitted({ id: 'm3', late: 'now' }, 1234));
    expect(written[2]).toEqual({ id: 's1', data: { messageAdded: { id: 'm3', late: 'now' } }, committedAt: 1234 });
    // Ended while a result still executes: next() settles (and graphql-ws completes) after its write.
    let releaseLast!: (value: string) => void;
    void push({ id: 'm4', late: new Promise<string>((resolve) => (releaseLast = resolve)) });
    await it.return!();
    let settled = false;
    void ended.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    releaseLast('last');
    expect(await ended).toEqual({ value: undefined, done: true });
    expect(written.map((w) => w.data)).toContainEqual({ messageAdded: { id: 'm4', late: 'last' } });
    expect(written).toHaveLength(4);
  });
});
