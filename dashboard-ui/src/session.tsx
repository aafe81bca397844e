import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, setCsrfToken, setSignedOutHandler } from './api.ts';
import type { Me, ProjectView } from './types.ts';

/**
 * Who is signed in. On start the app asks GET /session: a 401 means the
 * sign-in page. Any later 7001 (idle timeout, signed out elsewhere) brings
 * the sign-in page back with a note, and the page the person was on is
 * kept so signing in returns there.
 */
interface SessionState {
  status: 'loading' | 'signed-in' | 'signed-out';
  me: Me | null;
  /** The merchant's projects (empty for operators). */
  projects: ProjectView[];
  expired: boolean;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  reloadProjects(): Promise<void>;
  setCsrf(token: string): void;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<SessionState['status']>('loading');
  const [me, setMe] = useState<Me | null>(null);
  const [projects, setProjects] = useState<ProjectView[]>([]);
  const [expired, setExpired] = useState(false);

  const loadProjects = useCallback(async (who: Me) => {
    if (who.user.role === 'operator') {
      setProjects([]);
      return;
    }
    const answer = await api.get<{ projects: ProjectView[] }>('/projects');
    setProjects(answer.projects);
  }, []);

  const accept = useCallback(
    async (who: Me) => {
      setCsrfToken(who.csrf_token);
      await loadProjects(who);
      setMe(who);
      setExpired(false);
      setStatus('signed-in');
    },
    [loadProjects],
  );

  useEffect(() => {
    setSignedOutHandler(() => {
      setCsrfToken(undefined);
      setMe((current) => {
        if (current) setExpired(true);
        return null;
      });
      setStatus('signed-out');
    });
    api
      .get<Me>('/session')
      .then(accept)
      .catch((error: unknown) => {
        if (!(error instanceof ApiError) || error.code !== '7001') console.error(error);
        setStatus('signed-out');
      });
    return () => setSignedOutHandler(undefined);
  }, [accept]);

  const value = useMemo<SessionState>(
    () => ({
      status,
      me,
      projects,
      expired,
      async signIn(email, password) {
        const who = await api.post<Me>('/session', { email, password });
        await accept(who);
      },
      async signOut() {
        try {
          await api.delete('/session');
        } finally {
          setCsrfToken(undefined);
          setMe(null);
          setProjects([]);
          setExpired(false);
          setStatus('signed-out');
        }
      },
      async reloadProjects() {
        if (me) await loadProjects(me);
      },
      setCsrf(token) {
        setCsrfToken(token);
        setMe((current) => (current ? { ...current, csrf_token: token } : current));
      },
    }),
    [status, me, projects, expired, accept, loadProjects],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in user (screens behind the sign-in gate only). */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('useMe without a signed-in user');
  return me;
}

export function useIsAdmin(): boolean {
  return useMe().user.role === 'merchant_admin';
}
