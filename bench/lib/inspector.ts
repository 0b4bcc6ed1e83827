import WebSocket from 'ws';
import { messageText } from './ws-text';

/**
 * Forces a full garbage collection in a process started with `--inspect`, through the Chrome
 * DevTools protocol (`HeapProfiler.collectGarbage`), so that memory is compared without the
 * garbage of the moment and without changing the server to expose `gc()`.
 *
 * @param inspectorUrl - the `ws://127.0.0.1:<port>/<id>` the process printed on start.
 */
export async function collectGarbage(inspectorUrl: string): Promise<void> {
  const socket = new WebSocket(inspectorUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  try {
    for (const id of [1, 2]) {
      await new Promise<void>((resolve, reject) => {
        const onMessage = (data: WebSocket.RawData) => {
          const reply = JSON.parse(messageText(data)) as { id?: number; error?: { message: string } };
          if (reply.id !== id) return;
          socket.off('message', onMessage);
          if (reply.error) reject(new Error(reply.error.message));
          else resolve();
        };
        socket.on('message', onMessage);
        socket.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
      });
    }
  } finally {
    socket.close();
  }
}
