import { useState } from 'react';
import { useQuery } from 'urql';
import { describeFailure } from '../chat/errors';
import { nameOf, type Person } from '../chat/receipts';
import { WebFindPeopleDocument, WebStartConversationDocument } from '../gql/generated';
import { useChat } from './chat-context';
import { PlusIcon } from './icons';

/**
 * "New conversation": search people by username or display name prefix, pick one (a direct
 * conversation) or several (a group, with an optional name), start it. Starting an existing
 * participant set opens that conversation (the API's get-or-create).
 */
export function NewConversation({
  open,
  onToggle,
  onStarted,
}: {
  open: boolean;
  onToggle: (open: boolean) => void;
  onStarted: (conversationId: string) => void;
}) {
  const { connection, session, store } = useChat();
  const [search, setSearch] = useState('');
  const [picked, setPicked] = useState<Person[]>([]);
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [{ data }] = useQuery({
    query: WebFindPeopleDocument,
    variables: { search: search.trim(), first: 10 },
    pause: !open || search.trim() === '',
  });
  const people = (data?.users.edges.map((e) => e.node) ?? []).filter(
    (u) => u.id !== session.user.id && !picked.some((p) => p.id === u.id),
  );

  const start = async () => {
    setError(null);
    const r = await connection.urql
      .mutation(WebStartConversationDocument, {
        participantIds: picked.map((p) => p.id),
        title: picked.length > 1 && title.trim() ? title.trim() : undefined,
      })
      .toPromise();
    const c = r.data?.startConversation;
    if (!c) return setError(describeFailure(r.error ?? {}));
    store.upsertConversations([c]);
    setPicked([]);
    setSearch('');
    setTitle('');
    onStarted(c.id);
  };

  return (
    <section className="new-conversation">
      <button type="button" className="wide" aria-expanded={open} onClick={() => onToggle(!open)}>
        <PlusIcon /> New conversation
      </button>
      {open && (
        <div className="panel">
          <input
            type="search"
            aria-label="Find people"
            placeholder="Find people"
            autoFocus
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          {picked.length > 0 && (
            <ul className="chips" aria-label="Chosen people">
              {picked.map((p) => (
                <li key={p.id}>
                  <button
                    type="button"
                    className="chip"
                    aria-label={`Remove ${nameOf(p)}`}
                    onClick={() => setPicked(picked.filter((q) => q.id !== p.id))}
                  >
                    {nameOf(p)} ×
                  </button>
                </li>
              ))}
            </ul>
          )}
          <ul className="people" aria-label="People found">
            {people.map((u) => (
              <li key={u.id}>
                <button type="button" className="person" onClick={() => setPicked([...picked, u])}>
                  {nameOf(u)}
                  {u.displayName !== u.username && (
                    <span className="muted" aria-hidden="true">
                      {' '}
                      @{u.username}
                    </span>
                  )}
                </button>
              </li>
            ))}
          </ul>
          {picked.length > 1 && (
            <input
              aria-label="Group name"
              placeholder="Group name (optional)"
              maxLength={100}
              value={title}
              onChange={(e) => setTitle(e.target.value)}
            />
          )}
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <button type="button" disabled={picked.length === 0} onClick={() => void start()}>
            {picked.length > 1 ? 'Start group' : 'Start chat'}
          </button>
        </div>
      )}
    </section>
  );
}
