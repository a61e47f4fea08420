import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import type { SessionInfo } from '../../src/contract';
import { useApi } from './hooks';

const TOKEN_KEY = 'cdc-console.token';

export interface SessionState {
  /** null until GET /api/session answered. */
  info: SessionInfo | null;
  error: string | null;
  writeEnabled: boolean;
  token: string;
  setToken: (t: string) => void;
}

const SessionContext = createContext<SessionState | null>(null);

function readToken(): string {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const { data, error } = useApi<SessionInfo>('/api/session', 30_000);
  const [token, setTokenState] = useState<string>(readToken);
  const setToken = useCallback((t: string) => {
    setTokenState(t);
    try {
      if (t) window.sessionStorage.setItem(TOKEN_KEY, t);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      /* sessionStorage disabled: keep it in memory */
    }
  }, []);
  const value = useMemo<SessionState>(
    () => ({ info: data, error, writeEnabled: data?.writeEnabled ?? false, token, setToken }),
    [data, error, token, setToken],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
