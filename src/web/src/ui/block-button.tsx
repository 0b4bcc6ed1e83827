import { useState } from 'react';
import { describeFailure } from '../chat/errors';
import { nameOf } from '../chat/receipts';
import { WebBlockUserDocument, WebUnblockUserDocument, type WebUserFragment } from '../gql/generated';
import { useChat, useChatState } from './chat-context';

/**
 * "Block <name>" / "Unblock <name>" for one person. A blocked person cannot start or send to a
 * direct conversation with the viewer (the server refuses it); groups are not affected.
 * @param onError - a refusal, in words for a person
 */
export function BlockButton({ user, onError }: { user: WebUserFragment; onError: (message: string) => void }) {
  const { connection, store } = useChat();
  const blocked = useChatState().blocked.some((u) => u.id === user.id);
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    setBusy(true);
    const r = blocked
      ? await connection.urql.mutation(WebUnblockUserDocument, { userId: user.id }).toPromise()
      : await connection.urql.mutation(WebBlockUserDocument, { userId: user.id }).toPromise();
    setBusy(false);
    if (r.error) return onError(describeFailure(r.error));
    store.setBlockedOne(user, !blocked);
  };
  const name = nameOf(user);
  return (
    <button
      type="button"
      className="link block"
      disabled={busy}
      aria-label={`${blocked ? 'Unblock' : 'Block'} ${name}`}
      onClick={() => void toggle()}
    >
      {blocked ? 'Unblock' : 'Block'}
    </button>
  );
}
