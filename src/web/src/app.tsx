import { useCallback, useEffect, useState } from 'react';
import { loadSession, saveSession, type Session } from './api/session';
import { AuthScreen } from './ui/auth-screen';
import { ChatScreen } from './ui/chat-screen';

/**
 * The whole client: the log-in screen without a session, else the chat. When the server stops
 * accepting the token (expired, revoked) the user is asked to log in again; the open
 * conversation is kept in the address (`#/c/<id>`), so it is open again afterwards.
 */
export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState<string | null>(null);

  const start = useCallback((s: Session) => {
    saveSession(s);
    setNotice(null);
    setSession(s);
  }, []);
  const end = useCallback((reason: string | null) => {
    saveSession(null);
    setNotice(reason);
    setSession(null);
  }, []);

  // A token is not renewed by the API: when it expires, ask to log in again.
  useEffect(() => {
    if (!session) return;
    const ms = Date.parse(session.expiresAt) - Date.now();
    const timer = setTimeout(
      () => end('Your session has expired. Log in again.'),
      Math.max(0, Math.min(ms, 2 ** 31 - 1)),
    );
    return () => clearTimeout(timer);
  }, [session, end]);

  if (!session) return <AuthScreen onSession={start} notice={notice} />;
  return (
    <ChatScreen
      key={session.token}
      session={session}
      onLogout={() => end(null)}
      onExpired={() => end('Your session has ended. Log in again.')}
    />
  );
}
