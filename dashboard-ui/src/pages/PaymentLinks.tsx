import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api, segment } from '../api.ts';
import { AmountField, CurrencySelect, InputField } from '../components/Fields.tsx';
import { ProjectSelect, useChosenProject } from '../components/ProjectSelect.tsx';
import { CopyButton, EmptyRow, ErrorNotice, Field, Loading, Notice, Page, Section, StatusBadge, TableWrap } from '../components/ui.tsx';
import { decimalToMinor, formatDateTime, formatMoney } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import { useIsAdmin } from '../session.tsx';
import type { PaymentLinkView } from '../types.ts';

/**
 * Payment links of a project: the list (status active, paid or expired, the
 * URL to send) and, for admins, a form that creates one with the same rules
 * as the signed API (GET/POST /projects/:projectId/payment-links). Payments
 * made through a link are ordinary payments `link-<id>-<n>` under Payments.
 */
interface Form {
  amount: string;
  currency: string;
  description: string;
  singleUse: boolean;
  expiresAt: string;
}

const emptyForm: Form = { amount: '', currency: 'USD', description: '', singleUse: true, expiresAt: '' };

export default function PaymentLinks() {
  const isAdmin = useIsAdmin();
  const [project, chooseProject] = useChosenProject();
  const projectId = project?.id;
  const links = useLoad(
    (signal) =>
      projectId === undefined
        ? Promise.resolve(undefined)
        : api.get<{ links: PaymentLinkView[] }>(`/projects/${segment(projectId)}/payment-links`, undefined, { signal }),
    [projectId],
  );
  const [form, setForm] = useState<Form>(emptyForm);
  const [errors, setErrors] = useState<Partial<Record<keyof Form, string>>>({});
  const creating = useAction();
  const [created, setCreated] = useState<PaymentLinkView>();

  const setValue = (key: 'amount' | 'currency' | 'description' | 'expiresAt') => (value: string) => setForm((current) => ({ ...current, [key]: value }));
  const set = (key: 'amount' | 'description' | 'expiresAt') => (event: { target: { value: string } }) => setValue(key)(event.target.value);

  async function create(event: FormEvent) {
    event.preventDefault();
    if (projectId === undefined) return;
    const found: Partial<Record<keyof Form, string>> = {};
    const parsed = decimalToMinor(form.amount, form.currency);
    if ('error' in parsed) found.amount = parsed.error;
    let expiresAt: string | undefined;
    if (form.expiresAt) {
      const date = new Date(form.expiresAt);
      if (Number.isNaN(date.getTime())) found.expiresAt = 'Enter a date and time.';
      else if (date.getTime() <= Date.now()) found.expiresAt = 'Choose a time in the future.';
      else expiresAt = date.toISOString();
    }
    setErrors(found);
    if (Object.keys(found).length || 'error' in parsed) return;
    setCreated(undefined);
    await creating.run(async () => {
      const answer = await api.post<{ link: PaymentLinkView }>(`/projects/${segment(projectId)}/payment-links`, {
        amount: Number(parsed.minor),
        currency: form.currency,
        description: form.description.trim(),
        single_use: form.singleUse,
        ...(expiresAt ? { expires_at: expiresAt } : {}),
      });
      setCreated(answer.link);
      setForm((current) => ({ ...emptyForm, currency: current.currency }));
      await links.reload();
    });
  }

  return (
    <Page title="Payment links" description="A link you send to a customer, who pays on the hosted Payment Page without your site building a signed URL.">
      <Section title="Links">
        <Field label="Project" htmlFor="links-project">
          <ProjectSelect id="links-project" value={project ? String(project.id) : ''} onChange={chooseProject} />
        </Field>
        <ErrorNotice error={links.error} title="Payment links could not be loaded" />
        {!links.data && links.loading && projectId !== undefined ? <Loading /> : null}
        {links.data ? (
          <TableWrap label="Payment links">
            <table>
              <thead>
                <tr>
                  <th scope="col">Description</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Status</th>
                  <th scope="col">Use</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Payments started</th>
                  <th scope="col">Link</th>
                </tr>
              </thead>
              <tbody>
                {links.data.links.length === 0 ? <EmptyRow columns={7}>No payment links in this project yet.</EmptyRow> : null}
                {links.data.links.map((link) => (
                  <tr key={link.id}>
                    <th scope="row">
                      <span>{link.description || <span className="muted">(no description)</span>}</span>
                    </th>
                    <td className="nowrap">{formatMoney(link.amount, link.currency)}</td>
                    <td>
                      <StatusBadge status={link.status} />
                    </td>
                    <td>{link.single_use ? 'Single use' : 'Reusable'}</td>
                    <td className="nowrap">{link.expires_at ? formatDateTime(link.expires_at) : 'Never'}</td>
                    <td>
                      {link.attempts}
                      {link.paid_count ? <span className="muted"> ({link.paid_count} paid)</span> : null}
                    </td>
                    <td>
                      <a className="mono" href={link.url} target="_blank" rel="noopener noreferrer">
                        {link.url}
                        <span className="sr-only"> (opens in a new tab)</span>
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
        <p className="hint">
          Payments made through a link are ordinary payments with the payment ID <code>link-&lt;link id&gt;-&lt;n&gt;</code>: find them under{' '}
          <Link to="/payments">Payments</Link>, with the same refunds and callbacks.
        </p>
      </Section>

      <Section title="Create a link">
        {!isAdmin ? <Notice kind="info">Your role (viewer) cannot create payment links.</Notice> : null}
        {created ? (
          <Notice kind="success">
            Link for {formatMoney(created.amount, created.currency)} created: <span className="mono">{created.url}</span> <CopyButton text={created.url} label="Copy link" />
          </Notice>
        ) : null}
        <form onSubmit={create} className="form-grid" aria-label="Create a payment link">
          <AmountField id="link-amount" error={errors.amount} value={form.amount} onChange={set('amount')} required />
          <Field label="Currency" htmlFor="link-currency">
            <CurrencySelect id="link-currency" value={form.currency} onChange={setValue('currency')} />
          </Field>
          <InputField
            id="link-description"
            label="Description"
            hint="Shown to the customer on the Payment Page."
            value={form.description}
            onChange={set('description')}
            maxLength={255}
          />
          <InputField
            id="link-expires"
            label="Expires"
            hint="Optional, your local time. Leave empty for a link that does not expire."
            error={errors.expiresAt}
            type="datetime-local"
            value={form.expiresAt}
            onChange={set('expiresAt')}
          />
          <fieldset>
            <legend>Use</legend>
            <label className="choice">
              <input type="checkbox" checked={form.singleUse} onChange={(event) => setForm((current) => ({ ...current, singleUse: event.target.checked }))} /> Single use
              (one successful payment; a declined attempt does not use it up)
            </label>
          </fieldset>
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={creating.busy || !isAdmin || projectId === undefined}>
              {creating.busy ? 'Creating…' : 'Create link'}
            </button>
          </div>
        </form>
        <ErrorNotice error={creating.error} title="The link was not created" />
      </Section>
    </Page>
  );
}
