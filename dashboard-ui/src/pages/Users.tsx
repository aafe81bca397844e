import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { ConfirmDialog, describedBy, EmptyRow, ErrorNotice, Field, Loading, Notice, Page, Section, StatusBadge, TableWrap } from '../components/ui.tsx';
import { formatDateTime, roleLabels } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { useMe } from '../session.tsx';
import type { UserView } from '../types.ts';

/**
 * The merchant's users (admins only): add one with a first password, change
 * a role, disable or enable access, set a new password. Every change ends
 * that user's sessions; nobody can change their own role or access here.
 */
type Change = { user: UserView; kind: 'role'; role: string } | { user: UserView; kind: 'access'; disabled: boolean } | { user: UserView; kind: 'password' };

export default function Users() {
  const me = useMe();
  const users = useLoad((signal) => api.get<{ users: UserView[] }>('/users', undefined, { signal }), []);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('merchant_viewer');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [added, setAdded] = useState<string>();
  const [change, setChange] = useState<Change>();
  const [changeBusy, setChangeBusy] = useState(false);
  const [changeError, setChangeError] = useState<unknown>();
  const [newPassword, setNewPassword] = useState('');

  async function add(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setAdded(undefined);
    try {
      const answer = await api.post<{ user: UserView }>('/users', { email: email.trim(), role, password });
      setAdded(answer.user.email);
      setEmail('');
      setPassword('');
      await users.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  async function apply() {
    if (!change) return;
    setChangeBusy(true);
    setChangeError(undefined);
    try {
      const body = change.kind === 'role' ? { role: change.role } : change.kind === 'access' ? { disabled: change.disabled } : { password: newPassword };
      await api.patch(`/users/${change.user.id}`, body);
      setChange(undefined);
      setNewPassword('');
      await users.reload();
    } catch (failure) {
      setChangeError(failure);
    } finally {
      setChangeBusy(false);
    }
  }

  return (
    <Page title="Users" description="Who can sign in to your Dashboard. Admins can change payments and settings; viewers can only look.">
      <Section title="Users">
        <ErrorNotice error={users.error} title="Users could not be loaded" />
        {!users.data && users.loading ? <Loading /> : null}
        {users.data ? (
          <TableWrap label="Users">
            <table>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Access</th>
                  <th scope="col">Added</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {users.data.users.length === 0 ? <EmptyRow columns={5}>No users.</EmptyRow> : null}
                {users.data.users.map((user) => {
                  const self = user.id === me.user.id;
                  const locked = user.locked_until && new Date(user.locked_until) > new Date();
                  return (
                    <tr key={user.id}>
                      <th scope="row">
                        <span>
                          {user.email}
                          {self ? <span className="muted"> (you)</span> : null}
                        </span>
                      </th>
                      <td>
                        <label className="sr-only" htmlFor={`role-${user.id}`}>
                          Role of {user.email}
                        </label>
                        <select
                          id={`role-${user.id}`}
                          value={user.role}
                          disabled={self}
                          onChange={(event) => setChange({ user, kind: 'role', role: event.target.value })}
                        >
                          <option value="merchant_admin">{roleLabels.merchant_admin}</option>
                          <option value="merchant_viewer">{roleLabels.merchant_viewer}</option>
                        </select>
                      </td>
                      <td>{user.disabled ? <StatusBadge status="disabled" /> : locked ? <StatusBadge status="locked" /> : <StatusBadge status="ok" />}</td>
                      <td className="nowrap">{formatDateTime(user.created_at)}</td>
                      <td>
                        <div className="button-row">
                        {!self ? (
                          <button type="button" className="button button-secondary button-small" onClick={() => setChange({ user, kind: 'access', disabled: !user.disabled })}>
                            {user.disabled ? 'Enable' : 'Disable'}
                            <span className="sr-only"> {user.email}</span>
                          </button>
                        ) : null}
                        <button type="button" className="button button-secondary button-small" onClick={() => setChange({ user, kind: 'password' })}>
                          Set password<span className="sr-only"> of {user.email}</span>
                        </button>
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </Section>

      <Section title="Add a user">
        <form onSubmit={add} className="form-grid" aria-label="Add a user">
          <Field label="Email" htmlFor="new-user-email">
            <input id="new-user-email" type="email" autoComplete="off" required value={email} onChange={(event) => setEmail(event.target.value)} />
          </Field>
          <Field label="Role" htmlFor="new-user-role">
            <select id="new-user-role" value={role} onChange={(event) => setRole(event.target.value)}>
              <option value="merchant_viewer">Viewer (read only)</option>
              <option value="merchant_admin">Admin</option>
            </select>
          </Field>
          <Field label="First password" htmlFor="new-user-password" hint="At least 12 characters. Give it to the person over a separate channel.">
            <input
              id="new-user-password"
              type="password"
              autoComplete="new-password"
              minLength={12}
              required
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              aria-describedby={describedBy('new-user-password', true)}
            />
          </Field>
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? 'Adding…' : 'Add user'}
            </button>
          </div>
        </form>
        <ErrorNotice error={error} title="The user was not added" />
        {added ? <Notice kind="success">{added} can now sign in.</Notice> : null}
      </Section>

      <ConfirmDialog
        isOpen={!!change}
        title={
          change?.kind === 'role'
            ? `Make ${change.user.email} ${roleLabels[change.role]?.toLowerCase()}?`
            : change?.kind === 'access'
              ? `${change.disabled ? 'Disable' : 'Enable'} ${change.user.email}?`
              : `New password for ${change?.user.email ?? ''}`
        }
        confirmLabel={change?.kind === 'password' ? 'Set password' : 'Confirm'}
        tone={change?.kind === 'access' && change.disabled ? 'danger' : 'primary'}
        busy={changeBusy}
        error={changeError}
        onConfirm={() => void apply()}
        onClose={() => {
          setChange(undefined);
          setChangeError(undefined);
          setNewPassword('');
        }}
      >
        {change?.kind === 'password' ? (
          <Field label="New password" htmlFor="reset-password" hint="At least 12 characters. Their sessions end.">
            <input
              id="reset-password"
              type="password"
              autoComplete="new-password"
              minLength={12}
              value={newPassword}
              onChange={(event) => setNewPassword(event.target.value)}
              aria-describedby={describedBy('reset-password', true)}
            />
          </Field>
        ) : (
          <p>Their sessions end, and they sign in again with the new {change?.kind === 'role' ? 'role' : 'access'}.</p>
        )}
      </ConfirmDialog>
    </Page>
  );

}
