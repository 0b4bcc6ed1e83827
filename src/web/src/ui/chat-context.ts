import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Connection } from '../api/connection';
import type { Session } from '../api/session';
import type { Capabilities } from '../capabilities';
import type { ChatState, ChatStore } from '../chat/chat-store';

/** What every component of the chat screen reaches: the store, the connection, who is logged in. */
export interface Chat {
  store: ChatStore;
  connection: Connection;
  session: Session;
  capabilities: Capabilities;
  /** The server refused the token: ask the user to log in again. */
  expired: () => void;
}

export const ChatContext = createContext<Chat | null>(null);

export function useChat(): Chat {
  const chat = useContext(ChatContext);
  if (!chat) throw new Error('useChat outside ChatScreen');
  return chat;
}

/** The store's state, re-rendering on every change. */
export function useChatState(): ChatState {
  const { store } = useChat();
  return useSyncExternalStore(store.subscribe, store.getState);
}
