import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { api, getToken, setToken, setUnauthorizedHandler, type Me } from './api';

interface AuthState {
  /** The signed-in user and their projects (GET /api/v1/me); null when signed out. */
  me: Me | null;
  /** True while the stored token is being checked on start-up. */
  loading: boolean;
  /**
   * Signs in. With `next` (a URL from safeNext) it does not navigate: the login page
   * goes on to that URL once the session is there.
   */
  login: (username: string, password: string, next?: string | null) => Promise<void>;
  logout: () => Promise<void>;
  /** Re-reads /me (e.g. after joining or creating a project). */
  refresh: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const navigate = useNavigate();
  const location = useLocation();
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState<boolean>(() => getToken() !== null);

  // Any 401 from the API ends the session: the token is already dropped by api.ts.
  useEffect(() => {
    setUnauthorizedHandler(() => {
      setMe(null);
      setLoading(false);
      if (window.location.pathname !== '/login') {
        navigate('/login', { replace: true, state: { from: window.location.pathname } });
      }
    });
    return () => setUnauthorizedHandler(null);
  }, [navigate]);

  const refresh = useCallback(async () => {
    if (!getToken()) {
      setMe(null);
      return;
    }
    setMe(await api.me());
  }, []);

  useEffect(() => {
    if (!getToken()) return;
    refresh()
      .catch(() => {
        /* a 401 is handled above; other errors leave the user on the page with no session info */
      })
      .finally(() => setLoading(false));
    // Only on start-up: later changes go through login/logout/refresh.
  }, []);

  const login = useCallback(
    async (username: string, password: string, next?: string | null) => {
      const res = await api.login(username, password);
      setToken(res.token);
      const m = await api.me();
      setMe(m);
      if (next) return;
      const from = (location.state as { from?: string } | null)?.from;
      navigate(from && from !== '/login' ? from : '/projects', { replace: true });
    },
    [location.state, navigate],
  );

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      /* the session is over either way */
    }
    setToken(null);
    setMe(null);
    navigate('/login', { replace: true });
  }, [navigate]);

  const value = useMemo(() => ({ me, loading, login, logout, refresh }), [me, loading, login, logout, refresh]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

/**
 * The `?next=` of the login page as a URL to go to after signing in, or null. Only a
 * notebook on this host is accepted (the gateway sends anonymous visitors of a notebook
 * here with its URL): an http(s) URL whose hostname is this page's and whose path is
 * under /notebook/. Anything else — relative paths, other hosts, other schemes — is
 * ignored, so the login page cannot be used as an open redirect.
 */
export function safeNext(raw: string | null | undefined): string | null {
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password) return null;
  if (url.hostname !== window.location.hostname) return null;
  if (!url.pathname.startsWith('/notebook/')) return null;
  return url.href;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}
