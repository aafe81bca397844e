import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { useAction } from '../hooks.ts';
import type { UserView } from '../types.ts';
import { InputField } from './Fields.tsx';
import { ErrorNotice, Field, Notice } from './ui.tsx';

/**
 * The user forms the merchant's admins and the operators share: a new
 * password field and the "Add a user" form.
 */

/** The platform's rule (passwordLengthMin in src/accounts/passwords.ts, which the browser cannot import: it needs node:crypto). */
const passwordLengthMin = 12;

/**
 * A password someone sets: the browser checks the minimum length before the
 * platform does, and the hint says it, followed by `note` (what happens next).
 */
export function NewPasswordField({
  id,
  label,
  note,
  value,
  onChange,
  required = true,
}: {
  id: string;
  label: string;
  note?: string;
  value: string;
  onChange(value: string): void;
  required?: boolean;
}) {
  const rule = `At least ${passwordLengthMin} characters.`;
  return (
    <InputField
      id={id}
      label={label}
      hint={note ? `${rule} ${note}` : rule}
      type="password"
      autoComplete="new-password"
      minLength={passwordLengthMin}
      required={required}
      value={value}
      onChange={(event) => onChange(event.target.value)}
    />
  );
}

export interface RoleChoice {
  value: 'merchant_admin' | 'merchant_viewer';
  label: string;
}

/**
 * Adds a user with a first password: POSTs {email, role, password} to
 * `path`, then confirms and calls `onAdded` (to reload a list). The first of
 * `roles` is chosen at first. Ids start with `idPrefix`, so two screens'
 * forms keep their own ids.
 *
 * @example <NewUserForm idPrefix="new-user" path="/users" roles={[{ value: 'merchant_admin', label: 'Admin' }]} onAdded={users.reload} />
 */
export function NewUserForm({
  idPrefix,
  path,
  roles,
  passwordNote,
  onAdded,
}: {
  idPrefix: string;
  path: string;
  roles: RoleChoice[];
  passwordNote?: string;
  onAdded(): Promise<void>;
}) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string>(roles[0].value);
  const [password, setPassword] = useState('');
  const [added, setAdded] = useState<string>();
  const adding = useAction();

  async function add(event: FormEvent) {
    event.preventDefault();
    setAdded(undefined);
    await adding.run(async () => {
      const answer = await api.post<{ user: UserView }>(path, { email: email.trim(), role, password });
      setAdded(answer.user.email);
      setEmail('');
      setPassword('');
      await onAdded();
    });
  }

  return (
    <>
      <form onSubmit={add} className="form-grid" aria-label="Add a user">
        <Field label="Email" htmlFor={`${idPrefix}-email`}>
          <input id={`${idPrefix}-email`} type="email" autoComplete="off" required value={email} onChange={(event) => setEmail(event.target.value)} />
        </Field>
        <Field label="Role" htmlFor={`${idPrefix}-role`}>
          <select id={`${idPrefix}-role`} value={role} onChange={(event) => setRole(event.target.value)}>
            {roles.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </Field>
        <NewPasswordField id={`${idPrefix}-password`} label="First password" note={passwordNote} value={password} onChange={setPassword} />
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={adding.busy}>
            {adding.busy ? 'Adding…' : 'Add user'}
          </button>
        </div>
      </form>
      <ErrorNotice error={adding.error} title="The user was not added" />
      {added ? <Notice kind="success">{added} can now sign in.</Notice> : null}
    </>
  );
}
