import { useState } from 'react';
import { api } from '../api.ts';
import { NewPasswordField, NewUserForm } from '../components/UserForm.tsx';
import { ConfirmDialog, EmptyRow, LoadStatus, Page, Section, StatusBadge, TableWrap } from '../components/ui.tsx';
import { formatDateTime, roleLabels } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
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
  const [change, setChange] = useState<Change>();
  const changing = useAction();
  const [newPassword, setNewPassword] = useState('');

  async function apply() {
    if (!change) return;
    await changing.run(async () => {
      const body = change.kind === 'role' ? { role: change.role } : change.kind === 'access' ? { disabled: change.disabled } : { password: newPassword };
      await api.patch(`/users/${change.user.id}`, body);
      setChange(undefined);
      setNewPassword('');
      await users.reload();
    });
  }

  return (
    <Page title="Users" description="Who can sign in to your Dashboard. Admins can change payments and settings; viewers can only look.">
      <Section title="Users">
        <LoadStatus load={users} errorTitle="Users could not be loaded" />
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
        <NewUserForm
          idPrefix="new-user"
          path="/users"
          roles={[
            { value: 'merchant_viewer', label: 'Viewer (read only)' },
            { value: 'merchant_admin', label: 'Admin' },
          ]}
          passwordNote="Give it to the person over a separate channel."
          onAdded={users.reload}
        />
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
        busy={changing.busy}
        error={changing.error}
        onConfirm={() => void apply()}
        onClose={() => {
          setChange(undefined);
          changing.clearError();
          setNewPassword('');
        }}
      >
        {change?.kind === 'password' ? (
          <NewPasswordField id="reset-password" label="New password" note="Their sessions end." value={newPassword} onChange={setNewPassword} required={false} />
        ) : (
          <p>Their sessions end, and they sign in again with the new {change?.kind === 'role' ? 'role' : 'access'}.</p>
        )}
      </ConfirmDialog>
    </Page>
  );
}
