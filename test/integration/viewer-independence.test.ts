import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { getNamedType, isObjectType, parse, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { buildParleySchema } from '../../src/app/schema';
import type { ParleyServer } from '../../src/app/server';
import { SendMessageDocument, SetActiveConversationDocument } from '../../src/client/generated';
import { modules } from '../../src/modules';
import type { ParleyModule } from '../../src/modules/module';
import type { ViewerIndependentFields } from '../../src/shared/viewer-independence';
import { connected, ok, wsOk } from '../support/clients';
import { buildConversation, buildUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useInstances } from '../support/server';

const setup = useInstances(0);

/** The selection of every declared viewer-independent field under `type`, nested types included. */
function selectAll(
  schema: GraphQLSchema,
  declared: readonly ViewerIndependentFields[],
  type: GraphQLObjectType,
): string {
  const names = declared.filter((d) => d.typeName === type.name).flatMap((d) => d.fields);
  return names
    .map((name) => {
      const child = getNamedType(type.getFields()[name].type);
      return isObjectType(child) ? `${name} { ${selectAll(schema, declared, child)} }` : name;
    })
    .join(' ');
}

/**
 * Two participants subscribed to `query` on one instance, and a message sent by a third, who is
 * connected and viewing the conversation (so that its presence has an active conversation).
 * @returns what each subscriber received: its events and errors.
 */
async function deliver(server: ParleyServer, query: string) {
  const [sender, a, b] = await Promise.all(['sender', 'viewa', 'viewb'].map((prefix) => buildUser(server, { prefix })));
  const conversation = await buildConversation(server, sender, [a, b]);
  const senderSocket = setup.keep(await connected(server, sender));
  await wsOk(senderSocket, SetActiveConversationDocument, { conversationId: conversation.id });
  const document = parse(query) as TypedDocumentNode<Record<string, unknown>, { id: string }>;
  const subscriptions = await Promise.all(
    [a, b].map(async (viewer) =>
      setup.keep(await subscribeLive(server, viewer, 'messageAdded', document, { id: conversation.id })),
    ),
  );
  await ok(server, SendMessageDocument, { input: { conversationId: conversation.id, body: 'hello' } }, sender.token);
  return Promise.all(
    subscriptions.map(async (sub) => {
      await sub.waitFor(1).catch(() => undefined);
      return { events: sub.events, errors: sub.errors };
    }),
  );
}

describe('fields declared viewer-independent', () => {
  it('resolve every declared field without reading the viewer, the same for every subscriber', async () => {
    const server = await setup.cluster.start();
    const schema = await buildParleySchema(modules);
    const declared = modules.flatMap((m) => m.viewerIndependent ?? []);
    const message = getNamedType(schema.getSubscriptionType()!.getFields().messageAdded.type) as GraphQLObjectType;
    const selection = selectAll(schema, declared, message);
    expect(selection).toContain('sender {');

    const [a, b] = await deliver(
      server,
      `subscription($id: ID!) { messageAdded(conversationId: $id) { ${selection} } }`,
    );
    expect(a.errors).toEqual([]);
    expect(a.events).toHaveLength(1);
    expect(b).toEqual(a);
  });

  it("fail with an internal error, never another viewer's data, when a declared field reads the viewer", async () => {
    // Presence.activeConversationId is shown only to participants of that conversation: it reads the viewer.
    const wrong: ViewerIndependentFields[] = [
      { typeName: 'User', fields: ['presence'] },
      { typeName: 'Presence', fields: ['activeConversationId'] },
    ];
    const withWrong: ParleyModule[] = modules.map((m) =>
      m.name === 'presence' ? { ...m, viewerIndependent: wrong } : m,
    );
    const server = await setup.cluster.start({}, { modules: withWrong });
    const query = `subscription($id: ID!) { messageAdded(conversationId: $id) { id sender { id presence { activeConversationId } } } }`;
    for (const { errors } of await deliver(server, query)) {
      expect(errors).toEqual([
        expect.objectContaining({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
      ]);
    }
  });
});
