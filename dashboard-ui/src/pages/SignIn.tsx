import { useEffect, useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { ApiError } from '../api.ts';
import { ErrorNotice, Notice } from '../components/ui.tsx';
import { useSession } from '../session.tsx';

export function SignInPage() {
  const { signIn, expired } = useSession();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    document.title = 'Sign in · Gatehouse Dashboard';
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(email, password);
      const next = params.get('next');
      // Only a path inside the Dashboard: never an address elsewhere.
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  }

  const locked = error instanceof ApiError && error.code === '7003';
  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true">
            G
          </span>
          <span className="brand-name">Gatehouse</span>
        </div>
        <h1>Sign in to the Dashboard</h1>
        {expired ? <Notice kind="info">Your session ended (15 minutes without activity, or signed out elsewhere). Sign in again to go on.</Notice> : null}
        {error ? (
          locked ? (
            <ErrorNotice error={error} title="Account locked" />
          ) : (
            <ErrorNotice error={error} title="Not signed in" />
          )
        ) : null}
        <form onSubmit={submit} noValidate={false}>
          <div className="field">
            <label htmlFor="email">Email</label>
            <input id="email" type="email" autoComplete="username" required value={email} onChange={(event) => setEmail(event.target.value)} autoFocus />
          </div>
          <div className="field">
            <label htmlFor="password">Password</label>
            <input
              id="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
          </div>
          <button type="submit" className="button button-primary button-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p className="hint">Accounts are created by your administrator (merchants) or with the <code>gatehouse user create</code> command (operators).</p>
      </div>
    </main>
  );
}
