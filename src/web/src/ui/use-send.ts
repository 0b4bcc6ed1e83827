import { useCallback, useEffect, useRef } from 'react';
import { describeFailure, isUnauthenticated, rateLimitWait } from '../chat/errors';
import type { PendingMessage } from '../chat/timeline';
import { WebSendMessageDocument } from '../gql/generated';
import { useChat } from './chat-context';

/**
 * Sends a message optimistically: it shows at once as pending and is replaced by the stored one
 * (by `clientMessageId`, so a retry never shows twice). A refusal keeps the text on screen with
 * why, in words, and a Retry; a rate limit (`RATE_LIMITED`, `extensions.retryAfterMs`) says when
 * and sends it again by itself then.
 * @returns send(p): also the retry of a failed `p`
 */
export function useSend(conversationId: string): (p: PendingMessage) => Promise<void> {
  const { connection, store, expired } = useChat();
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  useEffect(() => {
    const pending = timers.current;
    return () => pending.forEach(clearTimeout);
  }, []);

  const send = useCallback(
    async (p: PendingMessage): Promise<void> => {
      store.addPending(p);
      const r = await connection.urql
        .mutation(WebSendMessageDocument, {
          input: { conversationId, body: p.body, clientMessageId: p.clientMessageId },
        })
        .toPromise();
      if (r.data) return void store.addMessages([r.data.sendMessage]);
      const failure = r.error ?? {};
      if (isUnauthenticated(failure)) return expired();
      const wait = rateLimitWait(failure);
      if (wait === null) return store.failPending(conversationId, p.clientMessageId, describeFailure(failure));
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      store.failPending(
        conversationId,
        p.clientMessageId,
        `You are sending faster than the server allows. It will be sent in ${seconds} s.`,
      );
      const timer = setTimeout(() => {
        timers.current.delete(timer);
        void send(p);
      }, wait);
      timers.current.add(timer);
    },
    [connection, conversationId, expired, store],
  );
  return send;
}
