import { useCallback, useEffect, useState } from 'react';

const read = () => /^#\/c\/([\w-]+)$/.exec(location.hash)?.[1] ?? null;

/** The open conversation, kept in the address as `#/c/<id>` (so a reload or a new log-in reopens it). */
export function useOpenConversation(): [string | null, (id: string | null) => void] {
  const [id, setId] = useState(read);
  useEffect(() => {
    const onHash = () => setId(read());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const open = useCallback((next: string | null) => {
    location.hash = next ? `#/c/${next}` : '';
    setId(next);
  }, []);
  return [id, open];
}
