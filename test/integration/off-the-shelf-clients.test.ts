import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { Client as UrqlClient, fetchExchange, subscriptionExchange } from '@urql/core';
import { OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  MessageAddedDocument,
  MessagesDocument,
  SendMessageDocument,
  type MessageAddedSubscription,
} from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { ok } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { useTwoInstances } from '../support/server';
import { eventually } from '../support/wait';

/** Parley as the usual clients see it: Apollo Client and urql, with graphql-ws for subscriptions. */
const setup = useTwoInstances();
const cleanup = (fn: () => unknown) => setup.keep({ dispose: fn });
let a: ParleyServer;
let b: ParleyServer;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  ({ a, b } = setup);
  [alice, bob] = [await buildUser(a, { prefix: 'alice' }), await buildUser(a, { prefix: 'bob' })];
});

/** A new conversation of alice and bob (and a third user, so that each test has its own), with a title. */
const newConversation = async (title: string) =>
  (await buildConversation(a, alice, [bob, await buildUser(a, { prefix: 'x' })], { title })).id;

const wsFor = (server: ParleyServer, user: TestUser) => {
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authToken: user.token },
  });
  cleanup(() => client.dispose());
  return client;
};

it('Apollo Client: query, mutation and a subscription across instances', async () => {
  const conversationId = await newConversation('apollo');
  const http = new HttpLink({ uri: a.url, headers: { authorization: `Bearer ${bob.token}` } });
  const ws = new GraphQLWsLink(wsFor(b, bob));
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.split(({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION, ws, http),
  });
  cleanup(() => client.stop());

  const received: MessageAddedSubscription[] = [];
  const subscription = client
    .subscribe({ query: MessageAddedDocument, variables: { after: [{ conversationId, seq: 0 }] } })
    .subscribe({
      next: (result) => result.data && received.push(result.data),
    });
  cleanup(() => subscription.unsubscribe());

  const sent = await ok(a, SendMessageDocument, { input: { conversationId, body: 'hello Apollo' } }, alice.token);
  const { data } = await client.mutate({
    mutation: SendMessageDocument,
    variables: { input: { conversationId, body: 'reply from Apollo' } },
  });
  expect(data?.sendMessage.sender.id).toBe(bob.id);
  await eventually(() => received.length >= 1);
  expect(received[0].messageAdded).toMatchObject({ id: sent.sendMessage.id, body: 'hello Apollo' });

  const history = await client.query({
    query: MessagesDocument,
    variables: { conversationId, first: 10 },
    fetchPolicy: 'network-only',
  });
  expect(history.data?.messages.edges.map((e) => e.node.body)).toEqual(['reply from Apollo', 'hello Apollo']);
});

it('urql: query (GET), mutation and a subscription, and errors with their codes', async () => {
  const conversationId = await newConversation('urql');
  await ok(a, SendMessageDocument, { input: { conversationId, body: 'one' } }, alice.token);
  await ok(a, SendMessageDocument, { input: { conversationId, body: 'two' } }, alice.token);
  const ws = wsFor(a, alice);
  const client = new UrqlClient({
    url: b.url,
    fetchOptions: { headers: { authorization: `Bearer ${alice.token}` } },
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });

  const received: MessageAddedSubscription[] = [];
  const subscription = client
    .subscription(MessageAddedDocument, { conversationId, after: [{ conversationId, seq: 2 }] })
    .subscribe((result) => result.data && received.push(result.data));
  cleanup(() => subscription.unsubscribe());

  const sent = await ok(b, SendMessageDocument, { input: { conversationId, body: 'hello urql' } }, bob.token);
  await eventually(() => received.length >= 1);
  expect(received[0].messageAdded).toMatchObject({ id: sent.sendMessage.id, seq: 3 });

  const mutation = await client.mutation(SendMessageDocument, { input: { conversationId, body: '   ' } }).toPromise();
  expect(mutation.error?.graphQLErrors.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
  const page = await client.query(MessagesDocument, { conversationId, first: 1 }).toPromise();
  expect(page.error).toBeUndefined();
  expect(page.data?.messages.edges[0].node.body).toBe('hello urql');
});
