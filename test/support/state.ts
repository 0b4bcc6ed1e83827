/**
 * @deprecated The helpers moved: instances to server.ts, sockets to clients.ts, "subscribe until
 * live" to live.ts, waits to wait.ts. This file goes once every test file imports them there.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from 'graphql-ws';
import { subscribeLive as live } from './live';
import type { Instance } from './server';

export { freePort, startChild, useTwoInstances, type ChildInstance, type Disposable, type Instance } from './server';
export { connected, wsOk } from './clients';
export { eventually } from './wait';

/** The old kind names of {@link subscribeLive}. */
export type StreamKind = 'presence' | 'typing' | 'readReceipt';

/** {@link live} with the old kind names. */
export const subscribeLive = <T>(server: Instance, client: Client, kind: StreamKind, document: TypedDocumentNode<T, any>, variables: Record<string, unknown> = {}) =>
  live<T>(server, client, kind === 'presence' ? 'presenceChanged' : kind, document, variables);
