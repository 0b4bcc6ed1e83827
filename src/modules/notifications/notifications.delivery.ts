import { createHmac } from 'node:crypto';
import webpush from 'web-push';
import { GiveUp, RetryLater } from './notifications.queue';
import type { NotificationKind } from './notifications.types';

/** The JSON of one external delivery, the same for every channel (see the README). */
export interface DeliveryPayload {
  /** The same on every retry: receivers drop duplicates by it. */
  deliveryId: string;
  recipient: { id: string; username: string };
  kind: NotificationKind;
  conversationId: string;
  /** How many notifications this delivery stands for. */
  count: number;
  /** The newest of them (null for ADDED_TO_CONVERSATION). */
  message: {
    id: string;
    seq: number;
    body: string;
    /** ISO-8601 */
    createdAt: string;
    sender: { id: string; username: string; displayName: string };
  } | null;
  /** ISO-8601: when the delivery was made up. */
  createdAt: string;
}

/** Most bytes of a Web Push payload: 4096 bytes of record minus encryption overhead, with margin. */
export const WEB_PUSH_MAX_BYTES = 3_000;

/**
 * The payload as JSON of at most `maxBytes` bytes (UTF-8), `message.body` cut (by code points,
 * with `…`) as much as needed.
 */
export function payloadJson(payload: DeliveryPayload, maxBytes = Infinity): string {
  let json = JSON.stringify(payload);
  const body = payload.message?.body;
  if (Buffer.byteLength(json) <= maxBytes || body === undefined) return json;
  const chars = [...body];
  let keep = chars.length;
  while (keep > 0 && Buffer.byteLength(json) > maxBytes) {
    keep = Math.floor(keep / 2);
    json = JSON.stringify({ ...payload, message: { ...payload.message!, body: chars.slice(0, keep).join('') + '…' } });
  }
  return json;
}

/** `sha256=<hex HMAC-SHA256 of body with secret>`: the X-Parley-Signature header. */
export const signature = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Parses Retry-After (seconds or an HTTP date) to ms, capped at 10 minutes; `undefined` when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 600_000) : undefined;
}

/** Maps an HTTP status to the retry rule: 2xx done, 429 and 5xx retried, other 4xx never. */
function checkStatus(status: number, retryAfter: string | null | undefined, what: string): void {
  if (status >= 200 && status < 300) return;
  if (status === 429 || status >= 500) throw new RetryLater(`${what} answered ${status}`, retryAfterMs(retryAfter));
  throw new GiveUp(`${what} answered ${status}`);
}

/**
 * POSTs a delivery to the webhook, signed.
 * @throws RetryLater on a network error, a timeout, 5xx or 429; GiveUp on another non-2xx answer.
 */
export async function postWebhook(url: string, secret: string, payload: DeliveryPayload): Promise<void> {
  const body = payloadJson(payload);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-parley-signature': signature(secret, body),
        'x-parley-delivery': payload.deliveryId,
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
  } catch (err) {
    throw new RetryLater(`webhook unreachable: ${(err as Error).message}`);
  }
  checkStatus(res.status, res.headers.get('retry-after'), 'webhook');
}

/** A push service answered 404 or 410: the subscription is gone and must be removed. */
export class SubscriptionGone extends GiveUp {}

/**
 * Sends a delivery to one Web Push subscription: `web-push` encrypts the payload (aes128gcm) and
 * signs the VAPID JWT; the request goes out with fetch (web-push's own sender speaks https only).
 * @throws SubscriptionGone on 404/410; RetryLater on a network error, 5xx or 429; GiveUp on another 4xx.
 */
export async function sendWebPush(
  subscription: { endpoint: string; p256dh: string; auth: string },
  vapid: { publicKey: string; privateKey: string; subject: string },
  payload: DeliveryPayload,
): Promise<void> {
  const request = webpush.generateRequestDetails(
    { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
    payloadJson(payload, WEB_PUSH_MAX_BYTES),
    { vapidDetails: vapid, TTL: 24 * 3600 },
  );
  let res: Response;
  try {
    res = await fetch(request.endpoint, {
      method: request.method,
      headers: request.headers as Record<string, string>,
      body: request.body,
      signal: AbortSignal.timeout(10_000),
      redirect: 'error',
    });
    await res.arrayBuffer();
  } catch (err) {
    throw new RetryLater(`push service unreachable: ${(err as Error).message}`);
  }
  if (res.status === 404 || res.status === 410) throw new SubscriptionGone(`push service answered ${res.status}`);
  checkStatus(res.status, res.headers.get('retry-after'), 'push service');
}
