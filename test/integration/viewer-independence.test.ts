import { getNamedType, isObjectType, parse, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { loadConfig } from '../../src/config/config';
import { SetActiveConversationDocument, StartConversationDocument } from '../../src/client/generated';
import { buildParleySchema } from '../../src/app/schema';
import { startServer, type ParleyServer } from '../../src/app/server';
import { modules } from '../../src/modules';
import type { ParleyModule } from '../../src/modules/module';
import type { StreamKind, StreamObserver } from '../../src/shared/live-stream';
import type { ViewerIndependentFields } from '../../src/shared/viewer-independence';
import { ok, registerUser, Subscription, wsClient, type TestUser } from '../support/clients';
import { TestCluster } from '../support/server';
import { connected, wsOk } from '../support/state';

/** Resolves when `count` streams of `kind` have gone live since it was made. */
class LiveStreams implements StreamObserver {
  private readonly waiters: Array<{ kind: StreamKind; left: number; resolve: () => void }> = [];
  ready(kind: StreamKind): void {
    for (const w of this.waiters) if (w.kind === kind && --w.left === 0) w.resolve();
  }
  ended(): void {}
  next(kind: StreamKind, count: number): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ kind, left: count, resolve }));
  }
}

/** The selection of every declared viewer-independent field under `type`, nested types included. */
function selectAll(schema: GraphQLSchema, declared: readonly ViewerIndependentFields[], type: GraphQLObjectType): string {
  const names = declared.filter((d) => d.typeName === type.name).flatMap((d) => d.fields);
  return names
    .map((name) => {
      const child = getNamedType(type.getFields()[name].type);
      return isObjectType(child) ? `${name} { ${selectAll(schema, declared, child)} }` : name;
    })
    .join(' ');
}

describe('fields declared viewer-independent', () => {
  let cluster: TestCluster;
  const started: ParleyServer[] = [];
  const observer = new LiveStreams();

  beforeAll(async () => {
    cluster = await TestCluster.create();
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
    await cluster.stop();
  });

  const start = async (withModules: readonly ParleyModule[]) => {
    const server = await startServer(loadConfig(cluster.env()), { modules: withModules, observer });
    started.push(server);
    return server;
  };

  /**
   * Two participants subscribed to `query` on one instance, and a message sent by a third, who is
   * connected and viewing the conversation (so that its presence shows an active conversation).
   */
  async function deliver(server: ParleyServer, query: string) {
    const [sender, a, b] = await Promise.all(['sender', 'viewa', 'viewb'].map((p) => registerUser(server, p)));
    const { startConversation } = await ok(server, StartConversationDocument, { participantIds: [a.id, b.id] }, sender.token);
    const senderSocket = await connected(server, sender);
    await wsOk(senderSocket, SetActiveConversationDocument, { conversationId: startConversation.id });
    const live = observer.next('messageAdded', 2);
    const subscriptions = [a, b].map((viewer: TestUser) => {
      const client = wsClient(server, { authToken: viewer.token });
      return { client, sub: new Subscription<Record<string, unknown>>(client, parse(query), { id: startConversation.id }) };
    });
    await live;
    const send = `mutation($id: ID!) { sendMessage(input: { conversationId: $id, body: "hello" }) { id } }`;
    await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sender.token}` },
      body: JSON.stringify({ query: send, variables: { id: startConversation.id } }),
    });
    try {
      return await Promise.all(
        subscriptions.map(async ({ sub }) => {
          await sub.waitFor(1).catch(() => undefined);
          return { events: sub.events, errors: sub.errors };
        }),
      );
    } finally {
      for (const { client } of [...subscriptions, { client: senderSocket }]) await client.dispose();
    }
  }

  it('resolve every declared field without reading the viewer, the same for every subscriber', async () => {
    const server = await start(modules);
    const schema = await buildParleySchema(modules);
    const declared = modules.flatMap((m) => m.viewerIndependent ?? []);
    const message = getNamedType(schema.getSubscriptionType()!.getFields().messageAdded.type) as GraphQLObjectType;
    const selection = selectAll(schema, declared, message);
    expect(selection).toContain('sender {');

    const [a, b] = await deliver(server, `subscription($id: ID!) { messageAdded(conversationId: $id) { ${selection} } }`);
    expect(a.errors).toEqual([]);
    expect(a.events).toHaveLength(1);
    expect(b).toEqual(a);
  });

  it('fail with an internal error, never another viewer\'s data, when a declared field reads the viewer', async () => {
    // Presence.activeConversationId is shown only to participants of that conversation: it reads the viewer.
    const wrong: ViewerIndependentFields[] = [
      { typeName: 'User', fields: ['presence'] },
      { typeName: 'Presence', fields: ['activeConversationId'] },
    ];
    const server = await start(modules.map((m) => (m.name === 'presence' ? { ...m, viewerIndependent: wrong } : m)));
    const query = `subscription($id: ID!) { messageAdded(conversationId: $id) { id sender { id presence { activeConversationId } } } }`;
    const results = await deliver(server, query);
    for (const { errors } of results) {
      expect(errors).toEqual([expect.objectContaining({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    }
  });
});
