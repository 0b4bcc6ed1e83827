import type { Client } from '@urql/core';
import { WebCapabilitiesDocument } from './gql/generated';

/**
 * Parts of the API this client can use when the server has them. Features being built on the
 * server (the notifications bell, blocking) plug in behind these flags: their components render
 * only when the flag is on, so this client runs against servers with and without them.
 */
export interface Capabilities {
  /** `Query.notifications` exists. */
  notifications: boolean;
  /** `Mutation.blockUser` exists. */
  blocking: boolean;
}

export const NO_CAPABILITIES: Capabilities = { notifications: false, blocking: false };

/** Reads the capabilities from the schema (introspection of Query and Mutation field names). */
export async function loadCapabilities(client: Client): Promise<Capabilities> {
  const { data } = await client.query(WebCapabilitiesDocument, {}).toPromise();
  const query = new Set(data?.query?.fields?.map((f) => f.name));
  const mutation = new Set(data?.mutation?.fields?.map((f) => f.name));
  return { notifications: query.has('notifications'), blocking: mutation.has('blockUser') };
}
