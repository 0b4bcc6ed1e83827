import type { ParleyServer } from '../../src/app/server';
import { MeDocument, MessageAddedDocument, SendMessageDocument } from '../../src/client/generated';
import { http, ok } from '../support/clients';
import { buildConversation, buildUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useInstances } from '../support/server';
import { eventually } from '../support/wait';

const setup = useInstances(1);
let server: ParleyServer;
beforeAll(() => ({ a: server } = setup));

/** The samples of /metrics, as `name{labels}` -> value. */
async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(server.url.replace(/\/graphql$/, '/metrics'))).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe('request ids', () => {
  it('echoes the caller’s X-Request-Id, or a new one', async () => {
    const given = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-abc.123' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.123');
    const made = await fetch(server.url.replace(/\/graphql$/, '/healthz'));
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('metrics', () => {
  it('time operations by name, count errors by code, messages, deliveries and their latency', async () => {
    const alice = await buildUser(server);
    const bob = await buildUser(server);
    const conversation = await buildConversation(server, alice, bob);
    await ok(server, MeDocument, {}, alice.token);
    await http(server, MeDocument, {});
    const sub = await subscribeLive(server, bob, 'messageAdded', MessageAddedDocument, {});
    await ok(server, SendMessageDocument, { input: { conversationId: conversation.id, body: 'metered' } }, alice.token);
    await eventually(() => sub.events.length === 1, 5_000, 'the event');
    await sub.dispose();

    const m = await scrape();
    expect(
      m.get('parley_graphql_operation_duration_seconds_count{transport="http",type="query",operation="Me"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      m.get(
        'parley_graphql_operation_duration_seconds_count{transport="http",type="mutation",operation="SendMessage"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(m.get('parley_graphql_errors_total{code="UNAUTHENTICATED"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('parley_messages_sent_total')).toBeGreaterThanOrEqual(1);
    expect(m.get('parley_deliveries_total')).toBeGreaterThanOrEqual(1);
    expect(m.get('parley_delivery_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(m.get('parley_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    expect(m.has('parley_redis_command_queue')).toBe(true);
    expect(m.has('parley_nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(m.get('parley_http_requests_total{status="2xx"}')).toBeGreaterThanOrEqual(1);
  });
});
