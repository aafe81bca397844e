import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { NewPasswordField } from '../components/UserForm.tsx';
import { ConfirmDialog, DefinitionList, EmptyRow, ErrorNotice, Field, Notice, Page, SecretDialog, Section, TableWrap } from '../components/ui.tsx';
import { formatDateTime, roleLabels } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import { useMe, useSession } from '../session.tsx';
import type { DataApiKeyView } from '../types.ts';

/** The signed-in user's own account: password, and (merchant users) Data API keys. */
export default function Account() {
  const me = useMe();
  const { setCsrf } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const changing = useAction();
  const [changed, setChanged] = useState(false);

  async function change(event: FormEvent) {
    event.preventDefault();
    setChanged(false);
    await changing.run(async () => {
      const answer = await api.post<{ csrf_token: string }>('/session/password', { current_password: current, new_password: next });
      // The session was renewed: later requests need its new CSRF token.
      setCsrf(answer.csrf_token);
      setChanged(true);
      setCurrent('');
      setNext('');
    });
  }

  return (
    <Page title="My account">
      <Section title="Account">
        <DefinitionList
          items={[
            ['Email', me.user.email],
            ['Role', roleLabels[me.user.role]],
            ['Merchant', me.merchant?.name ?? null],
            ['Session', `ends after ${Math.round(me.idle_timeout_seconds / 60)} minutes without activity`],
          ]}
        />
      </Section>
      <Section title="Change password">
        <form onSubmit={change} className="form-grid" aria-label="Change password">
          <Field label="Current password" htmlFor="current-password">
            <input id="current-password" type="password" autoComplete="current-password" required value={current} onChange={(event) => setCurrent(event.target.value)} />
          </Field>
          <NewPasswordField id="new-password" label="New password" note="Your other sessions end." value={next} onChange={setNext} />
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={changing.busy}>
              Change password
            </button>
          </div>
        </form>
        <ErrorNotice error={changing.error} title="Password not changed" />
        {changed ? <Notice kind="success">Password changed. Your other sessions were signed out.</Notice> : null}
      </Section>
      {me.user.role !== 'operator' ? <DataApiKeys /> : null}
    </Page>
  );
}

function DataApiKeys() {
  const keys = useLoad((signal) => api.get<{ user_id: number; keys: DataApiKeyView[] }>('/data-api-keys', undefined, { signal }), []);
  const [label, setLabel] = useState('');
  const creating = useAction();
  const [secret, setSecret] = useState<string>();
  const [revoking, setRevoking] = useState<DataApiKeyView>();
  const revocation = useAction();

  async function create(event: FormEvent) {
    event.preventDefault();
    await creating.run(async () => {
      const answer = await api.post<{ secret_key: string }>('/data-api-keys', { label: label.trim() });
      setSecret(answer.secret_key);
      setLabel('');
      await keys.reload();
    });
  }

  async function revoke() {
    if (!revoking) return;
    await revocation.run(async () => {
      await api.delete(`/data-api-keys/${revoking.id}`);
      setRevoking(undefined);
      await keys.reload();
    });
  }

  return (
    <Section title="Data API keys">
      <p className="muted">
        Programs read your payments through the Data API (<code>POST /data/v1/...</code>) signed with one of these keys and your user ID{' '}
        {keys.data ? <strong className="mono">{keys.data.user_id}</strong> : null}. At most 5 active keys.
      </p>
      <ErrorNotice error={keys.error} title="Keys could not be loaded" />
      {keys.data ? (
        <TableWrap label="Data API keys">
          <table className="compact">
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.keys.length === 0 ? <EmptyRow columns={4}>No keys.</EmptyRow> : null}
              {keys.data.keys.map((key) => (
                <tr key={key.id}>
                  <td>{key.label || `Key #${key.id}`}</td>
                  <td className="nowrap">{formatDateTime(key.created_at)}</td>
                  <td>{key.revoked_at ? `Revoked ${formatDateTime(key.revoked_at)}` : 'Active'}</td>
                  <td>
                    {!key.revoked_at ? (
                      <button type="button" className="button button-secondary button-small" onClick={() => setRevoking(key)}>
                        Revoke<span className="sr-only"> {key.label || `key ${key.id}`}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <form onSubmit={create} className="form-inline" aria-label="New Data API key">
        <Field label="Label (optional)" htmlFor="key-label">
          <input id="key-label" maxLength={100} value={label} onChange={(event) => setLabel(event.target.value)} />
        </Field>
        <button type="submit" className="button button-primary">
          Create key
        </button>
      </form>
      <ErrorNotice error={creating.error} title="No key was created" />
      <SecretDialog isOpen={!!secret} title="Your new Data API key" secret={secret ?? ''} onClose={() => setSecret(undefined)} />
      <ConfirmDialog
        isOpen={!!revoking}
        title="Revoke this key?"
        confirmLabel="Revoke"
        tone="danger"
        error={revocation.error}
        onConfirm={() => void revoke()}
        onClose={() => {
          setRevoking(undefined);
          revocation.clearError();
        }}
      >
        <p>Programs using it stop working at once.</p>
      </ConfirmDialog>
    </Section>
  );
}
