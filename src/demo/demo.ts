/**
 * `npm run demo`: the whole flow of Parley on one screen, against a running server.
 *
 * Three users register, start a direct and a group conversation, open one graphql-ws socket each,
 * subscribe to `messageAdded` and chat; every live event is printed as it arrives. Then a page of
 * history is read with `messages`, every socket is closed and the process exits 0 (1 on failure).
 *
 *   npm run demo                                   # http://localhost:4000/graphql
 *   npm run demo -- --url http://host:4001/graphql
 *   PARLEY_URL=http://host:4001/graphql npm run demo
 */
import { randomBytes } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  MessageAddedDocument,
  MessagesDocument,
  RegisterDocument,
  SendMessageDocument,
  StartConversationDocument,
  type MessageAddedSubscription,
  type MessagesQuery,
  type RegisterMutation,
} from '../client/generated';

const DEFAULT_URL = 'http://localhost:4000/graphql';
/** How long to wait for every expected live event before giving up, in ms. */
const DELIVERY_TIMEOUT_MS = 15_000;
/** Pause between two sends, in ms, so that the events of one message print before the next. */
const PACE_MS = 150;

type LiveMessage = MessageAddedSubscription['messageAdded'];

/** A registered demo user with its token and its graphql-ws client. */
interface Person {
  id: string;
  name: string;
  token: string;
  ws?: Client;
}

/** An error answered by the server, with its `extensions.code`. */
class ApiError extends Error {
  constructor(readonly errors: readonly GraphQLFormattedError[]) {
    super(
      errors
        .map((e) => `${typeof e.extensions?.code === 'string' ? e.extensions.code : 'ERROR'}: ${e.message}`)
        .join('; '),
    );
    this.name = 'ApiError';
  }
}

/**
 * The GraphQL endpoint: `--url <url>` (or `--url=<url>`), else `PARLEY_URL`, else
 * http://localhost:4000/graphql.
 */
export function endpointFrom(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const i = argv.findIndex((a) => a === '--url' || a.startsWith('--url='));
  const flag = i < 0 ? undefined : argv[i].startsWith('--url=') ? argv[i].slice('--url='.length) : argv[i + 1];
  return flag || env.PARLEY_URL || DEFAULT_URL;
}

/** The WebSocket URL of an HTTP GraphQL endpoint: same host, port and path, ws:// or wss://. */
export function webSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * POSTs a typed operation with plain `fetch` and returns its `data`.
 * @throws ApiError when the response carries GraphQL errors.
 */
export async function request<T, V>(
  url: string,
  document: TypedDocumentNode<T, V>,
  variables: V,
  token?: string,
): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await res.json()) as { data?: T | null; errors?: GraphQLFormattedError[] };
  if (body.errors?.length || !body.data)
    throw new ApiError(body.errors ?? [{ message: `HTTP ${res.status} without data` }]);
  return body.data;
}

/**
 * Opens a graphql-ws client authenticated with `{ authToken }` and resolves once the server has
 * acknowledged `connection_init`. No retries: a demo should show a failure, not hide it.
 */
export function connect(wsUrl: string, token: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authToken: token },
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: reject,
      on: {
        connected: () => resolve(client),
        closed: (event) =>
          reject(new Error(`socket closed before it was acknowledged (${(event as { code?: number }).code})`)),
      },
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quote = (s: string) => JSON.stringify(s);

async function main(): Promise<void> {
  const url = endpointFrom(process.argv.slice(2), process.env);
  const wsUrl = webSocketUrl(url);
  const suffix = randomBytes(3).toString('hex');
  console.log(`Parley demo against ${url} (WebSocket ${wsUrl})\n`);

  // 1. Three users, registered over HTTP.
  const people: Person[] = [];
  for (const name of ['alice', 'bob', 'carol']) {
    const { register }: RegisterMutation = await request(url, RegisterDocument, {
      input: { username: `${name}_${suffix}`, password: `demo-${suffix}-password`, displayName: name },
    });
    people.push({ id: register.user.id, name, token: register.token });
    console.log(`registered ${register.user.username.padEnd(13)} id ${register.user.id}`);
  }
  const [alice, bob, carol] = people;
  const nameOf = new Map(people.map((p) => [p.id, p.name]));

  // 2. A direct and a group conversation: identified by their participant sets.
  const direct = (await request(url, StartConversationDocument, { participantIds: [bob.id] }, alice.token))
    .startConversation;
  const group = (
    await request(
      url,
      StartConversationDocument,
      { participantIds: [bob.id, carol.id], title: 'Weekend plans' },
      alice.token,
    )
  ).startConversation;
  const label = new Map([
    [direct.id, 'direct alice+bob'],
    [group.id, `group "${group.title}"`],
  ]);
  console.log(`\nstarted ${label.get(direct.id)}  id ${direct.id}`);
  console.log(`started ${label.get(group.id)}  id ${group.id}\n`);

  // 3. One socket per user, each subscribed to messageAdded over all of its conversations.
  //    `after: seq 0` replays anything sent before the subscription took hold, then goes live,
  //    so no message can slip between subscribing and the first send.
  const received: string[] = [];
  let waiting: (() => void) | null = null;
  const failures: unknown[] = [];
  const unsubscribes: Array<() => void> = [];
  for (const person of people) {
    person.ws = await connect(wsUrl, person.token);
    const positions = [direct, group].filter((c) => c.participants.some((p) => p.id === person.id));
    unsubscribes.push(
      person.ws.subscribe<MessageAddedSubscription>(
        {
          query: print(MessageAddedDocument),
          variables: { after: positions.map((c) => ({ conversationId: c.id, seq: 0 })) },
        },
        {
          next: ({ data, errors }) => {
            if (errors?.length) failures.push(new ApiError(errors));
            if (!data) return;
            const m: LiveMessage = data.messageAdded;
            console.log(
              `  [live] ${person.name.padEnd(5)} got #${m.seq} from ${(nameOf.get(m.sender.id) ?? m.sender.username).padEnd(5)} ` +
                `in ${label.get(m.conversationId)}: ${quote(m.body)}`,
            );
            received.push(`${person.name}:${m.conversationId}:${m.seq}`);
            waiting?.();
          },
          error: (err) => failures.push(err),
          complete: () => undefined,
        },
      ),
    );
    console.log(`${person.name} connected over graphql-ws and subscribed to messageAdded`);
  }
  console.log('');

  // 4. The chat. The sender is not echoed (includeOwn defaults to false), so a direct message
  //    reaches one socket and a group message two.
  const script: Array<[Person, typeof direct, string]> = [
    [alice, direct, 'Hi Bob! Are you around this weekend?'],
    [bob, direct, 'Hey Alice, yes, Saturday works.'],
    [alice, group, 'Carol, Bob: picnic on Saturday?'],
    [carol, group, 'Count me in. I will bring lemonade.'],
    [bob, group, 'Great, I will bring sandwiches.'],
    [alice, direct, 'See you there!'],
  ];
  let expected = 0;
  for (const [sender, conversation, body] of script) {
    const { sendMessage } = await request(
      url,
      SendMessageDocument,
      { input: { conversationId: conversation.id, body, clientMessageId: `demo-${suffix}-${expected}` } },
      sender.token,
    );
    expected += conversation.participants.length - 1;
    console.log(`${sender.name} sent #${sendMessage.seq} to ${label.get(conversation.id)}: ${quote(body)}`);
    await sleep(PACE_MS);
  }

  // An idempotent retry: the same clientMessageId returns the stored message and publishes nothing.
  const retry = await request(
    url,
    SendMessageDocument,
    { input: { conversationId: direct.id, body: script[5][2], clientMessageId: `demo-${suffix}-${expected - 1}` } },
    alice.token,
  );
  console.log(
    `alice retried her last send with the same clientMessageId: got #${retry.sendMessage.seq} back, nothing new delivered`,
  );

  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (received.length < expected && failures.length === 0 && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      waiting = resolve;
      setTimeout(resolve, 100);
    });
  }
  await sleep(PACE_MS); // let a duplicate (there should be none) show up before counting
  console.log(`\n${received.length} live events received, ${expected} expected`);

  // 5. History: the group's newest messages first, two per page, following the cursor.
  console.log(`\nhistory of ${label.get(group.id)} (messages, NEWEST_FIRST, first: 2):`);
  let after: string | null = null;
  for (let page = 1; ; page++) {
    const { messages }: MessagesQuery = await request(
      url,
      MessagesDocument,
      { conversationId: group.id, first: 2, after, order: 'NEWEST_FIRST' },
      carol.token,
    );
    for (const { node } of messages.edges) {
      console.log(
        `  page ${page}  #${node.seq} ${node.sender.displayName.padEnd(5)} ${node.createdAt}  ${quote(node.body)}`,
      );
    }
    if (!messages.pageInfo.hasNextPage) break;
    after = messages.pageInfo.endCursor ?? null;
  }

  // 6. Close every subscription and socket.
  for (const unsubscribe of unsubscribes) unsubscribe();
  await Promise.all(people.map((p) => p.ws?.dispose()));
  console.log('\nall sockets closed');

  if (failures.length) throw new Error(`subscription failed: ${failures.map(String).join('; ')}`);
  const unique = new Set(received);
  if (received.length !== expected || unique.size !== received.length) {
    throw new Error(`expected ${expected} distinct live events, got ${received.length} (${unique.size} distinct)`);
  }
}

main().catch((err: unknown) => {
  const cause = (err as { cause?: { code?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') {
    console.error('\nNo Parley server answers there. Start one with `npm start` (or pass --url / PARLEY_URL).');
  } else {
    console.error('\ndemo failed:', err instanceof Error ? err.message : err);
  }
  process.exit(1);
});
