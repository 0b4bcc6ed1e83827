import WebSocket from 'ws';
import { messageText } from './ws-text';

/**
 * Sends Chrome DevTools protocol requests, one after the other, to a process started with
 * `--inspect`. @returns each request's `result`.
 * @param inspectorUrl - the `ws://127.0.0.1:<port>/<id>` the process printed on start.
 * @throws when the protocol answers an error.
 */
async function devtools(
  inspectorUrl: string,
  requests: ReadonlyArray<{ method: string; params?: Record<string, unknown> }>,
): Promise<unknown[]> {
  const socket = new WebSocket(inspectorUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const results: unknown[] = [];
  try {
    for (const [index, request] of requests.entries()) {
      const id = index + 1;
      results.push(
        await new Promise<unknown>((resolve, reject) => {
          const onMessage = (data: WebSocket.RawData) => {
            const reply = JSON.parse(messageText(data)) as {
              id?: number;
              result?: unknown;
              error?: { message: string };
            };
            if (reply.id !== id) return;
            socket.off('message', onMessage);
            if (reply.error) reject(new Error(reply.error.message));
            else resolve(reply.result);
          };
          socket.on('message', onMessage);
          socket.send(JSON.stringify({ id, ...request }));
        }),
      );
    }
  } finally {
    socket.close();
  }
  return results;
}

/**
 * Forces a full garbage collection in a process started with `--inspect`, through the Chrome
 * DevTools protocol (`HeapProfiler.collectGarbage`), so that memory is compared without the
 * garbage of the moment and without changing the server to expose `gc()`.
 *
 * @param inspectorUrl - the `ws://127.0.0.1:<port>/<id>` the process printed on start.
 */
export async function collectGarbage(inspectorUrl: string): Promise<void> {
  await devtools(inspectorUrl, [{ method: 'HeapProfiler.collectGarbage' }, { method: 'HeapProfiler.collectGarbage' }]);
}

/**
 * `process.memoryUsage()` of a process started with `--inspect`, after two full garbage
 * collections (for a server that has no `/metrics`: the textbook peer).
 */
export async function memoryAfterGc(inspectorUrl: string): Promise<{ rss: number; heapUsed: number }> {
  const [, , evaluated] = await devtools(inspectorUrl, [
    { method: 'HeapProfiler.collectGarbage' },
    { method: 'HeapProfiler.collectGarbage' },
    {
      method: 'Runtime.evaluate',
      params: { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true },
    },
  ]);
  return JSON.parse((evaluated as { result: { value: string } }).result.value) as { rss: number; heapUsed: number };
}

/**
 * Writes a heap snapshot of a process started with `--inspect` to `file` (a path on this machine),
 * through `v8.writeHeapSnapshot` in that process; open it in Chrome DevTools (Memory) to compare.
 */
export async function writeHeapSnapshot(inspectorUrl: string, file: string): Promise<void> {
  const expression = `process.mainModule.require('node:v8').writeHeapSnapshot(${JSON.stringify(file)})`;
  await devtools(inspectorUrl, [{ method: 'Runtime.evaluate', params: { expression, returnByValue: true } }]);
}
