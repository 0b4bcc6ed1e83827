import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * A real graphql-ws client (over `ws`) that never retries, resolved once the server has
 * acknowledged `connection_init` with the token.
 * @throws (rejects) when the server refuses or closes the socket before acknowledging it.
 */
export function connectGraphqlWs(url: string, token: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client: Client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { authToken: token },
      lazy: false,
      retryAttempts: 0,
      shouldRetry: () => false,
      onNonLazyError: (err) =>
        reject(err instanceof Error ? err : new Error(`connection failed: ${JSON.stringify(err)}`)),
      on: {
        connected: () => resolve(client),
        closed: (event) => reject(new Error(`closed before ack: ${(event as { code?: number }).code}`)),
      },
    });
  });
}

/**
 * A bare `ws` client speaking just enough of graphql-transport-ws for the baselines: it sends
 * `connection_init` with the token and resolves on the first answer (the ack).
 */
export function connectRaw(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } })));
    socket.once('message', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
