import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api, segment } from '../api.ts';
import { AmountField, CurrencySelect, InputField } from '../components/Fields.tsx';
import { ProjectSelect, useChosenProject } from '../components/ProjectSelect.tsx';
import { ConfirmDialog, Field, Notice, Page, Section } from '../components/ui.tsx';
import { decimalToMinor, formatMoney } from '../format.ts';
import { useAction } from '../hooks.ts';
import { paymentPath } from '../links.ts';
import { useIsAdmin } from '../session.tsx';
import type { Accepted } from '../types.ts';

/**
 * A single payout to a PayPal account: the Dashboard sends the Gate payout
 * request for the person (Gate's schema and rules apply), after a
 * confirmation. The result arrives like any payout: see the payment.
 */
interface Form {
  paymentId: string;
  amount: string;
  currency: string;
  accountNumber: string;
  customerId: string;
  customerEmail: string;
  customerCountry: string;
  description: string;
}

const newPaymentId = () => `payout-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${Math.random().toString(36).slice(2, 6)}`;

export default function Payouts() {
  const isAdmin = useIsAdmin();
  const [project, chooseProject] = useChosenProject();
  const [form, setForm] = useState<Form>(() => ({
    paymentId: newPaymentId(),
    amount: '',
    currency: 'USD',
    accountNumber: '',
    customerId: '',
    customerEmail: '',
    customerCountry: '',
    description: '',
  }));
  const [errors, setErrors] = useState<Partial<Record<keyof Form, string>>>({});
  const [confirming, setConfirming] = useState<bigint>();
  const sending = useAction();
  const [done, setDone] = useState<{ projectId: number; paymentId: string; requestId: string; text: string }>();

  const setValue = (key: keyof Form) => (value: string) => setForm((current) => ({ ...current, [key]: value }));
  const set = (key: keyof Form) => (event: { target: { value: string } }) => setValue(key)(event.target.value);

  function review(event: FormEvent) {
    event.preventDefault();
    const found: Partial<Record<keyof Form, string>> = {};
    const parsed = decimalToMinor(form.amount, form.currency);
    if ('error' in parsed) found.amount = parsed.error;
    if (!form.paymentId.trim()) found.paymentId = 'Give the payout a payment ID (unique in the project).';
    if (!form.accountNumber.trim()) found.accountNumber = "Enter the receiver's PayPal email or PayPal account ID.";
    if (!form.customerId.trim()) found.customerId = 'Enter your ID for the receiver.';
    if (form.customerCountry && !/^[A-Z]{2}$/.test(form.customerCountry)) found.customerCountry = 'Two capital letters (ISO 3166-1), e.g. DE.';
    setErrors(found);
    if (Object.keys(found).length || 'error' in parsed) return;
    sending.clearError();
    setConfirming(parsed.minor);
  }

  async function send() {
    if (!project || confirming === undefined) return;
    await sending.run(async () => {
      const accepted = await api.post<Accepted>(`/projects/${segment(project.id)}/payouts`, {
        payment_id: form.paymentId.trim(),
        amount: Number(confirming),
        currency: form.currency,
        account_number: form.accountNumber.trim(),
        customer_id: form.customerId.trim(),
        ...(form.description.trim() ? { description: form.description.trim() } : {}),
        ...(form.customerEmail.trim() ? { customer_email: form.customerEmail.trim() } : {}),
        ...(form.customerCountry ? { customer_country: form.customerCountry } : {}),
      });
      setDone({ projectId: project.id, paymentId: accepted.payment_id, requestId: accepted.request_id, text: formatMoney(confirming, form.currency) });
      setConfirming(undefined);
      setForm((current) => ({ ...current, paymentId: newPaymentId(), amount: '', accountNumber: '', customerId: '', customerEmail: '', description: '' }));
    });
  }

  return (
    <Page title="Payouts" description="Send money to a PayPal account. For many payouts at once, use a mass payout file.">
      {done ? (
        <Notice kind="success">
          Payout of {done.text} accepted (request {done.requestId}).{' '}
          <Link to={paymentPath(done.projectId, done.paymentId)}>Follow payout {done.paymentId}</Link>
        </Notice>
      ) : null}
      <Section title="New payout" actions={<Link to="/mass-payouts">Mass payouts from a CSV file</Link>}>
        {!isAdmin ? <Notice kind="info">Your role (viewer) cannot send payouts.</Notice> : null}
        <form onSubmit={review} className="form-grid" aria-label="New payout">
          <Field label="Project" htmlFor="payout-project">
            <ProjectSelect id="payout-project" value={project ? String(project.id) : ''} onChange={chooseProject} required />
          </Field>
          <InputField
            id="payout-payment-id"
            label="Payment ID"
            hint="Unique within the project; your reference for this payout."
            error={errors.paymentId}
            value={form.paymentId}
            onChange={set('paymentId')}
            maxLength={255}
            required
          />
          <AmountField id="payout-amount" error={errors.amount} value={form.amount} onChange={set('amount')} required />
          <Field label="Currency" htmlFor="payout-currency">
            <CurrencySelect id="payout-currency" value={form.currency} onChange={setValue('currency')} />
          </Field>
          <InputField
            id="payout-account"
            label="Receiver's PayPal account"
            hint="PayPal email address or PayPal account ID."
            error={errors.accountNumber}
            value={form.accountNumber}
            onChange={set('accountNumber')}
            maxLength={255}
            required
          />
          <InputField
            id="payout-customer"
            label="Customer ID"
            hint="Your ID for the receiver."
            error={errors.customerId}
            value={form.customerId}
            onChange={set('customerId')}
            maxLength={255}
            required
          />
          <Field label="Customer email (optional)" htmlFor="payout-email">
            <input id="payout-email" type="email" value={form.customerEmail} onChange={set('customerEmail')} maxLength={254} />
          </Field>
          <InputField
            id="payout-country"
            label="Customer country (optional)"
            hint="ISO 3166-1 alpha-2, e.g. DE."
            error={errors.customerCountry}
            value={form.customerCountry}
            onChange={(event) => setValue('customerCountry')(event.target.value.toUpperCase())}
            maxLength={2}
          />
          <Field label="Description (optional)" htmlFor="payout-description">
            <input id="payout-description" value={form.description} onChange={set('description')} maxLength={255} />
          </Field>
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={!isAdmin || !project}>
              Review payout…
            </button>
          </div>
        </form>
      </Section>
      <ConfirmDialog
        isOpen={confirming !== undefined}
        title="Send this payout?"
        confirmLabel="Send payout"
        busy={sending.busy}
        error={sending.error}
        onConfirm={() => void send()}
        onClose={() => {
          setConfirming(undefined);
          sending.clearError();
        }}
      >
        <p>
          Send <strong>{confirming !== undefined ? formatMoney(confirming, form.currency) : ''}</strong> to <span className="mono">{form.accountNumber}</span> from
          project {project?.name} (payment ID <span className="mono">{form.paymentId}</span>). Money leaves your balance once PayPal confirms.
        </p>
      </ConfirmDialog>
    </Page>
  );
}
