/**
 * Payment and operation statuses (the spec's wire values) and the one table
 * that says which operation may start from which payment status and where
 * each operation outcome leads. The spec's callback figures fix the
 * transitions: a declined capture or cancel leaves the payment `awaiting
 * capture`; a declined refund leaves it as it was; a full refund makes it
 * `refunded`, a partial one `partially refunded`.
 */
export const paymentStatuses = [
  'processing',
  'awaiting redirect result',
  'awaiting capture',
  'success',
  'decline',
  'canceled',
  'refunded',
  'partially refunded',
  'error',
] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];

export const operationStatuses = ['processing', 'awaiting redirect result', 'success', 'decline', 'error', 'expired'] as const;
export type OperationStatus = (typeof operationStatuses)[number];

export const operationTypes = ['sale', 'auth', 'capture', 'cancel', 'refund', 'payout', 'recurring', 'recurring_cancel', 'chargeback'] as const;
export type OperationType = (typeof operationTypes)[number];

export type PaymentType = 'purchase' | 'payout' | 'recurring';

/** The final outcomes an operation can reach. */
export type OperationOutcome = 'success' | 'decline' | 'error' | 'expired';

export function isFinalOperationStatus(status: OperationStatus): boolean {
  switch (status) {
    case 'processing':
    case 'awaiting redirect result':
      return false;
    case 'success':
    case 'decline':
    case 'error':
    case 'expired':
      return true;
    default:
      return assertNever(status);
  }
}

export function isFinalPaymentStatus(status: PaymentStatus): boolean {
  switch (status) {
    case 'processing':
    case 'awaiting redirect result':
    case 'awaiting capture':
      return false;
    case 'success':
    case 'decline':
    case 'canceled':
    case 'refunded':
    case 'partially refunded':
    case 'error':
      return true;
    default:
      return assertNever(status);
  }
}

/** Operations a merchant starts on an existing payment. */
export type FollowUpOperation = 'capture' | 'cancel' | 'refund';

/** May `operation` start on a payment in `status`? */
export function mayStart(operation: FollowUpOperation, status: PaymentStatus): boolean {
  switch (operation) {
    case 'capture':
    case 'cancel':
      return status === 'awaiting capture';
    case 'refund':
      return status === 'success' || status === 'partially refunded';
    default:
      return assertNever(operation);
  }
}

/** The payment status while `operation` is in flight. Refunds may overlap, so they leave the status alone. */
export function paymentStatusWhileRunning(operation: OperationType, previous: PaymentStatus): PaymentStatus {
  switch (operation) {
    case 'sale':
    case 'auth':
    case 'payout':
    case 'recurring':
    case 'capture':
    case 'cancel':
      return 'processing';
    case 'refund':
    case 'recurring_cancel':
    case 'chargeback':
      return previous;
    default:
      return assertNever(operation);
  }
}

export interface PaymentAmounts {
  capturedMinor: bigint;
  refundedMinor: bigint;
}

/**
 * Where a payment goes when one of its operations reaches `outcome`.
 * `amounts` are the payment's amounts after the outcome was applied.
 */
export function paymentStatusAfter(
  operation: OperationType,
  outcome: OperationOutcome,
  previous: PaymentStatus,
  amounts: PaymentAmounts,
): PaymentStatus {
  switch (operation) {
    case 'sale':
    case 'recurring':
    case 'payout':
      return outcome === 'success' ? 'success' : outcome === 'error' ? 'error' : 'decline';
    case 'auth':
      return outcome === 'success' ? 'awaiting capture' : outcome === 'error' ? 'error' : 'decline';
    case 'capture':
      return outcome === 'success' ? 'success' : 'awaiting capture';
    case 'cancel':
      return outcome === 'success' ? 'canceled' : 'awaiting capture';
    case 'refund':
      if (outcome !== 'success') return previous;
      return amounts.refundedMinor >= amounts.capturedMinor ? 'refunded' : 'partially refunded';
    case 'recurring_cancel':
    case 'chargeback':
      return previous;
    default:
      return assertNever(operation);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled variant: ${String(value)}`);
}
