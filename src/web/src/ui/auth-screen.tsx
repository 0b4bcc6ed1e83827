import { Client, fetchExchange } from '@urql/core';
import { useMemo, useState, type FormEvent } from 'react';
import type { Session } from '../api/session';
import { describeFailure } from '../chat/errors';
import { WebLoginDocument, WebRegisterDocument } from '../gql/generated';

/** Sign up or log in: one form, two buttons. Display name is used by sign up only (it defaults to the username). */
export function AuthScreen({ onSession, notice }: { onSession: (s: Session) => void; notice: string | null }) {
  const client = useMemo(
    () => new Client({ url: new URL('/graphql', location.href).href, exchanges: [fetchExchange] }),
    [],
  );
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (action: 'log in' | 'sign up', e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    const result =
      action === 'log in'
        ? await client.mutation(WebLoginDocument, { input: { username, password } }).toPromise()
        : await client
            .mutation(WebRegisterDocument, {
              input: { username, password, displayName: displayName.trim() || undefined },
            })
            .toPromise();
    setBusy(false);
    const payload = result.data && ('login' in result.data ? result.data.login : result.data.register);
    if (payload) onSession(payload);
    else setError(describeFailure(result.error ?? {}, action));
  };

  return (
    <main className="auth">
      <form className="auth-card" onSubmit={(e) => void submit('log in', e)}>
        <h1>Parley</h1>
        <p className="muted">Chat in real time. Sign up with a new username, or log in.</p>
        {notice && <p className="notice">{notice}</p>}
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            required
            minLength={3}
            maxLength={32}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          Display name
          <input
            name="displayName"
            autoComplete="nickname"
            maxLength={64}
            placeholder="for sign up; defaults to the username"
            value={displayName}
            onChange={(e) => setDisplayName(e.target.value)}
          />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <div className="row">
          <button type="submit" disabled={busy}>
            Log in
          </button>
          <button type="button" className="secondary" disabled={busy} onClick={() => void submit('sign up')}>
            Sign up
          </button>
        </div>
      </form>
    </main>
  );
}
