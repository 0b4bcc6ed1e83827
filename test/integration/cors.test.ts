import WebSocket from 'ws';
import type { ParleyServer } from '../../src/app/server';
import { useInstances, type TestCluster } from '../support/server';

const setup = useInstances(1);
let cluster: TestCluster;
let server: ParleyServer;
beforeAll(() => ({ cluster, a: server } = setup));

const preflight = (url: string, origin: string) =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, authorization',
    },
  });

/** The HTTP status of a WebSocket handshake (101 when it opened). */
function handshake(wsUrl: string, origin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws', origin ? { origin } : {});
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    socket.once('error', reject);
  });
}

describe('the default origin policy (development, embedded)', () => {
  it('answers a preflight from localhost with the allowed methods and headers', async () => {
    const res = await preflight(server.url, 'http://localhost:5173');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'content-type,authorization,x-request-id,apollo-require-preflight',
    );
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('lets a page on 127.0.0.1 run a query and read the answer', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { origin: 'http://127.0.0.1:3000', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3000');
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('gives another origin no Access-Control-Allow-Origin', async () => {
    const res = await preflight(server.url, 'https://evil.example');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(
      (await preflight(server.url, 'http://localhost.evil.example')).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });

  it('refuses the WebSocket handshake of another origin with 403; no Origin passes', async () => {
    expect(await handshake(server.wsUrl, 'https://evil.example')).toBe(403);
    expect(await handshake(server.wsUrl, 'http://localhost:5173')).toBe(101);
    expect(await handshake(server.wsUrl)).toBe(101);
  });
});

describe('CORS_ORIGINS', () => {
  it('replaces the default on both transports', async () => {
    const other = await cluster.start({ CORS_ORIGINS: 'https://app.example.com, http://localhost:6006' });
    const app = await preflight(other.url, 'https://app.example.com');
    expect(app.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect((await preflight(other.url, 'http://localhost:5173')).headers.get('access-control-allow-origin')).toBeNull();
    expect(await handshake(other.wsUrl, 'http://localhost:5173')).toBe(403);
    expect(await handshake(other.wsUrl, 'https://app.example.com')).toBe(101);
  });

  it("allows any origin only when set to '*'", async () => {
    const other = await cluster.start({ CORS_ORIGINS: '*' });
    const res = await preflight(other.url, 'https://anything.example');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://anything.example');
    expect(await handshake(other.wsUrl, 'https://anything.example')).toBe(101);
  });
});
