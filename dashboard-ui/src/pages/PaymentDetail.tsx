import { useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { api, segment } from '../api.ts';
import { AmountField } from '../components/Fields.tsx';
import { useProjectName } from '../components/ProjectSelect.tsx';
import { ConfirmDialog, DefinitionList, EmptyRow, ErrorNotice, Field, LoadStatus, Notice, Page, Section, StatusBadge, TableWrap } from '../components/ui.tsx';
import { decimalToMinor, formatDateTime, formatDecimal, formatMoney, humanize, minorToDecimal } from '../format.ts';
import { useAction, useLoad, usePolling } from '../hooks.ts';
import { useIsAdmin } from '../session.tsx';
import type { Accepted, CallbackView, PaymentDetail as Detail } from '../types.ts';

/**
 * One payment: its facts, the operations timeline, the callbacks with every
 * delivery attempt (and a resend), the ledger entries, and the follow-up
 * actions Gate allows from its status: capture or cancel a hold, refund all
 * or part of what was captured. Actions are confirmed first; while an
 * operation is still processing the page refreshes itself.
 */
type Action = { kind: 'capture' | 'cancel' } | { kind: 'refund'; amountMinor: bigint; description: string };

const processingStatuses = new Set(['processing', 'awaiting redirect result']);

export default function PaymentDetail() {
  const { projectId = '' } = useParams();
  const [params] = useSearchParams();
  const paymentId = params.get('id') ?? '';
  const isAdmin = useIsAdmin();
  const projectName = useProjectName();
  const detail = useLoad((signal) => api.get<Detail>(`/projects/${segment(projectId)}/payments/${segment(paymentId)}`, undefined, { signal }), [projectId, paymentId]);
  const [watchUntil, setWatchUntil] = useState(0);
  const [notice, setNotice] = useState<string>();

  const data = detail.data;
  const anyProcessing =
    !!data &&
    (data.operations.some((operation) => processingStatuses.has(operation.status)) ||
      data.callbacks.some((callback) => callback.status === 'pending' && callback.attempts === 0));
  // Refresh while work is under way, and for a short while after an action (its operation may not exist yet).
  usePolling(anyProcessing || Date.now() < watchUntil, () => detail.reload(), 1_000, 120);

  if (!data) {
    return (
      <Page title={`Payment ${paymentId}`}>
        <LoadStatus load={detail} errorTitle="The payment could not be loaded" />
        <p>
          <Link to="/payments">Back to payments</Link>
        </p>
      </Page>
    );
  }
  const payment = data.payment;
  const started = (what: string) => {
    setNotice(what);
    setWatchUntil(Date.now() + 8_000);
    void detail.reload();
  };

  return (
    <Page
      title={`Payment ${payment.payment_id}`}
      description={
        <>
          <StatusBadge status={payment.status} /> {formatDecimal(payment.amount, payment.currency)} · {humanize(payment.type)} ·{' '}
          {projectName(payment.project_id)}
        </>
      }
      actions={<Link to="/payments">All payments</Link>}
    >
      {notice ? <Notice kind="success">{notice}</Notice> : null}
      <ErrorNotice error={detail.error} title="Refreshing failed" />

      <div className="columns">
        <Section title="Details">
          <DefinitionList
            items={[
              ['Payment ID', <span className="mono">{payment.payment_id}</span>],
              ['Status', <StatusBadge status={payment.status} />],
              ['Type', `${humanize(payment.type)} via ${payment.method === 'paypal' ? 'PayPal' : payment.method}`],
              ['Amount', formatDecimal(payment.amount, payment.currency)],
              ['Captured', formatMoney(payment.captured_minor, payment.currency)],
              ['Refunded', formatMoney(payment.refunded_minor, payment.currency)],
              ['Charged back', formatMoney(payment.chargeback_minor, payment.currency)],
              ['Available to refund', formatMoney(payment.available_for_refund_minor, payment.currency)],
              ['Customer', payment.customer_id ? <span className="mono">{payment.customer_id}</span> : null],
              ['Account', payment.account_number ? <span className="mono">{payment.account_number}</span> : null],
              ['Description', payment.description || null],
              ['PayPal order', payment.provider_order_id ? <span className="mono">{payment.provider_order_id}</span> : null],
              ['COF registration', payment.recurring_id === null ? null : `#${payment.recurring_id}`],
              ['Created', formatDateTime(payment.created_at)],
              ['Updated', formatDateTime(payment.updated_at)],
            ]}
          />
        </Section>
        <Actions detail={data} projectId={projectId} isAdmin={isAdmin} onStarted={started} />
      </div>

      <Section title="Operations">
        <ol className="timeline" aria-label="Operations, oldest first">
          {data.operations.map((operation) => (
            <li key={operation.id} className="timeline-item" data-operation-type={operation.type} data-operation-status={operation.status}>
              <div className="timeline-head">
                <strong>{humanize(operation.type)}</strong> <StatusBadge status={operation.status} />
                <span className="timeline-amount">{operation.currency ? formatDecimal(operation.amount, operation.currency) : null}</span>
              </div>
              <div className="timeline-meta">
                <span>
                  #{operation.id} · {formatDateTime(operation.created_at)}
                  {operation.completed_at ? ` → ${formatDateTime(operation.completed_at)}` : ''}
                </span>
                <span>
                  Code {operation.code}
                  {operation.message ? `: ${operation.message}` : ''}
                </span>
                {operation.provider_payment_id ? <span className="mono">PayPal {operation.provider_payment_id}</span> : null}
                <span className="mono">Request {operation.request_id}</span>
              </div>
            </li>
          ))}
        </ol>
      </Section>

      <Section title="Callbacks">
        {data.callbacks.length === 0 ? <p className="muted">No callbacks for this payment (no callback URL, or callbacks disabled).</p> : null}
        <ul className="callbacks">
          {data.callbacks.map((callback) => (
            <CallbackItem key={callback.id} callback={callback} projectId={projectId} isAdmin={isAdmin} onResent={started} />
          ))}
        </ul>
      </Section>

      <Section title="Ledger entries">
        <details>
          <summary>{data.ledger_entries.length} entries (double-entry bookkeeping of this payment)</summary>
          <TableWrap label="Ledger entries">
            <table className="compact">
              <thead>
                <tr>
                  <th scope="col">Booked</th>
                  <th scope="col">Operation</th>
                  <th scope="col">Account</th>
                  <th scope="col">Side</th>
                  <th scope="col" className="number">
                    Amount
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.ledger_entries.length === 0 ? <EmptyRow columns={5}>Nothing booked yet.</EmptyRow> : null}
                {data.ledger_entries.map((entry, index) => (
                  <tr key={index}>
                    <td className="nowrap">{formatDateTime(entry.booked_at)}</td>
                    <td>
                      {humanize(entry.operation_type)} {entry.operation_id ? `#${entry.operation_id}` : ''}
                    </td>
                    <td>{humanize(entry.account)}</td>
                    <td>{entry.side}</td>
                    <td className="number">{formatMoney(entry.amount_minor, entry.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </details>
      </Section>
    </Page>
  );
}

function Actions({ detail, projectId, isAdmin, onStarted }: { detail: Detail; projectId: string; isAdmin: boolean; onStarted(message: string): void }) {
  const payment = detail.payment;
  const [amount, setAmount] = useState('');
  const [description, setDescription] = useState('');
  const [amountError, setAmountError] = useState<string>();
  const [pending, setPending] = useState<Action>();
  const confirmation = useAction();

  const available = BigInt(payment.available_for_refund_minor || '0');
  const canHold = payment.status === 'awaiting capture';
  const canRefund = (payment.status === 'success' || payment.status === 'partially refunded') && available > 0n && payment.type !== 'payout';
  const busyOperation = detail.operations.find((operation) => processingStatuses.has(operation.status) && operation.type !== 'sale' && operation.type !== 'auth');

  function askRefund(event: FormEvent) {
    event.preventDefault();
    const parsed = decimalToMinor(amount || minorToDecimal(available, payment.currency), payment.currency);
    if ('error' in parsed) return setAmountError(parsed.error);
    if (parsed.minor > available) return setAmountError(`At most ${formatMoney(available, payment.currency)} can be refunded.`);
    setAmountError(undefined);
    confirmation.clearError();
    setPending({ kind: 'refund', amountMinor: parsed.minor, description: description.trim() });
  }

  async function confirm() {
    if (!pending) return;
    await confirmation.run(async () => {
      const path = `/projects/${segment(projectId)}/payments/${segment(payment.payment_id)}/${pending.kind}`;
      const body =
        pending.kind === 'refund'
          ? { amount: Number(pending.amountMinor), currency: payment.currency, ...(pending.description ? { description: pending.description } : {}) }
          : {};
      const accepted = await api.post<Accepted>(path, body);
      const what =
        pending.kind === 'refund'
          ? `Refund of ${formatMoney(pending.amountMinor, payment.currency)} accepted`
          : pending.kind === 'capture'
            ? 'Capture accepted'
            : 'Cancellation accepted';
      setPending(undefined);
      setAmount('');
      setDescription('');
      onStarted(`${what} (request ${accepted.request_id}). Its result appears in the operations below.`);
    });
  }

  return (
    <Section title="Actions">
      {!isAdmin ? <p className="muted">Your role (viewer) can look but not change payments.</p> : null}
      {busyOperation ? (
        <Notice kind="info">
          A {humanize(busyOperation.type).toLowerCase()} is being processed; this page refreshes until it is done.
        </Notice>
      ) : null}
      {isAdmin && !canHold && !canRefund ? <p className="muted">No action is possible in status “{payment.status}”.</p> : null}
      {isAdmin && canHold ? (
        <div className="button-row">
          <p>This payment holds {formatDecimal(payment.amount, payment.currency)}: capture it, or release the hold.</p>
          <button type="button" className="button button-primary" onClick={() => setPending({ kind: 'capture' })}>
            Capture
          </button>
          <button type="button" className="button button-danger" onClick={() => setPending({ kind: 'cancel' })}>
            Cancel hold
          </button>
        </div>
      ) : null}
      {isAdmin && canRefund ? (
        <form onSubmit={askRefund} className="stack" aria-label="Refund">
          <AmountField
            id="refund-amount"
            label={`Refund amount (${payment.currency})`}
            hint={`Up to ${formatMoney(available, payment.currency)}. Leave empty to refund all of it.`}
            error={amountError}
            value={amount}
            placeholder={minorToDecimal(available, payment.currency)}
            onChange={(event) => setAmount(event.target.value)}
          />
          <Field label="Reason (optional)" htmlFor="refund-description">
            <input id="refund-description" maxLength={255} value={description} onChange={(event) => setDescription(event.target.value)} />
          </Field>
          <button type="submit" className="button button-primary">
            Refund…
          </button>
        </form>
      ) : null}
      <ConfirmDialog
        isOpen={!!pending}
        title={pending?.kind === 'refund' ? 'Refund this payment?' : pending?.kind === 'capture' ? 'Capture this payment?' : 'Release this hold?'}
        confirmLabel={pending?.kind === 'refund' ? 'Refund' : pending?.kind === 'capture' ? 'Capture' : 'Release hold'}
        tone={pending?.kind === 'capture' ? 'primary' : 'danger'}
        busy={confirmation.busy}
        error={confirmation.error}
        onConfirm={() => void confirm()}
        onClose={() => {
          setPending(undefined);
          confirmation.clearError();
        }}
      >
        {pending?.kind === 'refund' ? (
          <p>
            Refund <strong>{formatMoney(pending.amountMinor, payment.currency)}</strong> of payment <span className="mono">{payment.payment_id}</span> to the
            customer's PayPal account. This cannot be undone.
          </p>
        ) : pending?.kind === 'capture' ? (
          <p>
            Capture <strong>{formatDecimal(payment.amount, payment.currency)}</strong> from the customer's PayPal account.
          </p>
        ) : (
          <p>Release the hold of {formatDecimal(payment.amount, payment.currency)}; the customer is not charged. This cannot be undone.</p>
        )}
      </ConfirmDialog>
    </Section>
  );
}

function CallbackItem({ callback, projectId, isAdmin, onResent }: { callback: CallbackView; projectId: string; isAdmin: boolean; onResent(message: string): void }) {
  const resending = useAction();
  const last = callback.delivery_attempts[callback.delivery_attempts.length - 1];

  async function resend() {
    await resending.run(async () => {
      await api.post(`/projects/${segment(projectId)}/callbacks/${callback.id}/resend`, {});
      onResent(`Callback #${callback.id} is being sent again.`);
    });
  }

  return (
    <li className="callback" data-callback-id={callback.id}>
      <div className="callback-head">
        <strong>Callback #{callback.id}</strong> <StatusBadge status={callback.status} />
        <span className="muted">
          {humanize(callback.kind)}
          {callback.operation_id ? ` · operation #${callback.operation_id}` : ''}
        </span>
        {isAdmin ? (
          <button type="button" className="button button-secondary button-small" onClick={() => void resend()} disabled={resending.busy || !callback.url}>
            {resending.busy ? 'Resending…' : 'Resend'}
          </button>
        ) : null}
      </div>
      <p className="callback-meta">
        <span data-testid="attempt-count">
          {callback.attempts} attempt{callback.attempts === 1 ? '' : 's'}
        </span>
        {' · '}
        {callback.delivered_at ? `delivered ${formatDateTime(callback.delivered_at)}` : callback.next_attempt_at ? `next attempt ${formatDateTime(callback.next_attempt_at)}` : 'not delivered'}
        {last ? ` · last answer ${last.http_status ?? 'none'}` : ''}
      </p>
      <p className="callback-url mono">{callback.url || '(no URL)'}</p>
      <ErrorNotice error={resending.error} title="Resend failed" />
      <details>
        <summary>Delivery attempts ({callback.delivery_attempts.length})</summary>
        <TableWrap label={`Delivery attempts of callback ${callback.id}`}>
          <table className="compact">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">HTTP status</th>
                <th scope="col" className="number">
                  Latency
                </th>
                <th scope="col">Answer or error</th>
              </tr>
            </thead>
            <tbody>
              {callback.delivery_attempts.length === 0 ? <EmptyRow columns={5}>Not attempted yet.</EmptyRow> : null}
              {callback.delivery_attempts.map((attempt) => (
                <tr key={attempt.attempt}>
                  <td>{attempt.attempt}</td>
                  <td className="nowrap">{formatDateTime(attempt.attempted_at)}</td>
                  <td>{attempt.http_status ?? '—'}</td>
                  <td className="number">{attempt.latency_ms === null ? '—' : `${attempt.latency_ms} ms`}</td>
                  <td className="excerpt">{attempt.error ?? attempt.response_excerpt ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </details>
    </li>
  );
}
