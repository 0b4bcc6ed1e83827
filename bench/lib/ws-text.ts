import type WebSocket from 'ws';

/**
 * The text of a `ws` message. With the default `binaryType` ('nodebuffer') `ws` hands over one
 * Buffer; the other shapes of `RawData` are decoded too rather than stringified as objects.
 */
export function messageText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString();
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  return Buffer.from(data).toString();
}
