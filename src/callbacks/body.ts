import type { OperationRecord, PaymentRecord } from '../store/payments.ts';

/**
 * Builds a callback in exactly the spec's format (PayPal method guide,
 * figures 13-46): field names, nesting and string-typed codes are the
 * contract merchants parse. The signature is added by the outbox.
 */
export interface CallbackContext {
  projectId: bigint;
  methodDisplayName: string;
  providerNumber: number;
  payment: PaymentRecord;
  operation: OperationRecord;
  /** Direct Gate flow: where to send the customer (intermediate callbacks only). */
  redirectData?: { method: 'GET' | 'POST'; url: string; body: Record<string, unknown> };
  recurring?: { id: number; currency: string };
}

/** The spec's timestamp format: 2019-12-25T09:48:29+0000 (UTC). */
export function formatCallbackDate(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+0000`;
}

/** What the payment is worth now: captured minus refunded once money moved, else the requested amount. */
export function paymentSumMinor(payment: PaymentRecord): bigint {
  if (payment.type === 'payout') return payment.amountMinor;
  const moneyMoved = payment.status === 'success' || payment.status === 'partially refunded' || payment.status === 'refunded';
  return moneyMoved && payment.capturedMinor > 0n ? payment.capturedMinor - payment.refundedMinor : payment.amountMinor;
}

function money(amountMinor: bigint, currency: string) {
  // A recurring_cancel carries {amount: 0, currency: ""} (spec figure 38).
  return { amount: Number(amountMinor), currency };
}

export function buildCallbackBody(context: CallbackContext): Record<string, unknown> {
  const { payment, operation } = context;
  const body: Record<string, unknown> = {
    project_id: Number(context.projectId),
    payment: {
      id: payment.paymentId,
      type: payment.type,
      status: payment.status,
      date: formatCallbackDate(payment.updatedAt),
      method: context.methodDisplayName,
      sum: money(paymentSumMinor(payment), payment.currency),
      description: payment.description,
    },
  };
  if (payment.accountNumber) body.account = { number: payment.accountNumber };
  if (payment.customer.id) body.customer = { id: payment.customer.id };
  if (payment.payer && (payment.payer.name || payment.payer.email)) {
    body.provider_extra_fields = { holder: payment.payer.name ?? '', email: payment.payer.email ?? '' };
  }
  if (context.recurring) body.recurring = context.recurring;
  const provider: Record<string, unknown> = {
    id: context.providerNumber,
    payment_id: operation.providerPaymentId,
    auth_code: '',
  };
  if (operation.providerDate) provider.date = formatCallbackDate(operation.providerDate);
  body.operation = {
    id: Number(operation.id),
    type: operation.type,
    status: operation.status,
    date: formatCallbackDate(operation.completedAt ?? new Date()),
    created_date: formatCallbackDate(operation.createdAt),
    request_id: operation.requestId,
    sum_initial: money(operation.amountMinor, operation.currency),
    sum_converted: money(operation.convertedAmountMinor, operation.convertedCurrency),
    code: operation.code,
    message: operation.message,
    provider,
  };
  if (context.redirectData) body.redirect_data = context.redirectData;
  return body;
}
