import { randomBytes } from 'node:crypto';
import { GateError } from '../domain/errors.ts';
import { convertMinor } from '../domain/fx.ts';
import { mayStart, paymentStatusWhileRunning, type FollowUpOperation, type OperationType, type PaymentType } from '../domain/statuses.ts';
import { queueNames } from '../jobs/queue.ts';
import type { PlatformContext } from '../processing/context.ts';
import { isUniqueViolation, withTransaction } from '../store/db.ts';
import { insertOperation, insertPayment, lockPayment, updatePayment, type NewPayment, type PaymentRecord } from '../store/payments.ts';
import type { Project } from '../store/projects.ts';
import type { AuthBody, PayoutBody, RefundBody, SaleBody } from './schemas.ts';
import { checkCurrency, checkIpAddress, checkPurchaseMaximum } from './purchase-rules.ts';

/** Most refunds one payment may have (code 903 beyond). */
export const refundsPerPaymentMax = 100;

/** request_id: unique per request, in the real platform's shape (hex, dash, counter). */
export function newRequestId(): string {
  return `${randomBytes(14).toString('hex')}-${String(Date.now() % 100_000_000).padStart(8, '0')}`;
}

export interface Accepted {
  status: 'success';
  request_id: string;
  project_id: number;
  payment_id: string;
}

function accepted(project: Project, paymentId: string, requestId: string): Accepted {
  return { status: 'success', request_id: requestId, project_id: Number(project.id), payment_id: paymentId };
}

type NewPaymentBody = SaleBody | AuthBody | PayoutBody;

function newPaymentRecord(project: Project, method: string, type: PaymentType, body: NewPaymentBody): NewPayment {
  return {
    projectId: project.id,
    paymentId: body.general.payment_id,
    type,
    method,
    status: 'processing',
    currency: body.payment.currency,
    amountMinor: BigInt(body.payment.amount),
    description: body.payment.description ?? '',
    customer: body.customer,
    accountNumber: 'account' in body ? body.account.number : null,
    returnUrl: 'return_url' in body ? body.return_url : {},
    additionalData: body.additional_data ?? null,
    callbackUrl: body.general.merchant_callback_url ?? null,
    callbackDelaySeconds: body.callback?.delay ?? 0,
    callbackDisabled: body.callback?.force_disable ?? false,
  };
}

/**
 * Accepts a new payment (sale, auth or payout): validate the method's rules,
 * then write payment, first operation and provider job in one transaction.
 * A duplicate payment_id, also from a racing request, hits the unique
 * constraint and answers 3041 with nothing written.
 */
export async function acceptNewPayment(
  context: PlatformContext,
  project: Project,
  method: string,
  operationType: Extract<OperationType, 'sale' | 'auth' | 'payout'>,
  body: NewPaymentBody,
): Promise<Accepted> {
  checkIpAddress(body.customer.ip_address);
  checkCurrency(body.payment.currency, body.customer.country);
  const usdRates = await context.usdRates();
  const amountMinor = BigInt(body.payment.amount);
  if (operationType !== 'payout') checkPurchaseMaximum(amountMinor, body.payment.currency, usdRates);
  const converted = convertedSum(project, amountMinor, body.payment.currency, usdRates);
  const requestId = newRequestId();
  const paymentType: PaymentType = operationType === 'payout' ? 'payout' : 'purchase';
  try {
    await withTransaction(context.pool, async (tx) => {
      const payment = await insertPayment(tx, newPaymentRecord(project, method, paymentType, body));
      const operation = await insertOperation(tx, {
        paymentRef: payment.ref,
        projectId: project.id,
        type: operationType,
        status: 'processing',
        amountMinor,
        currency: body.payment.currency,
        convertedAmountMinor: converted.amountMinor,
        convertedCurrency: converted.currency,
        requestId,
      });
      await context.queue.send(queueNames.operationExecute, { operationId: String(operation.id) }, { db: tx });
    });
  } catch (error) {
    if (isUniqueViolation(error, 'payments_project_id_payment_id_key')) throw new GateError('paymentIdExists', body.general.payment_id);
    throw error;
  }
  context.queue.wake(queueNames.operationExecute);
  return accepted(project, body.general.payment_id, requestId);
}

/** sum_converted: the amount in the project's settlement currency (itself when none is set). */
export function convertedSum(project: Project, amountMinor: bigint, currency: string, usdRates: ReadonlyMap<string, string>) {
  const target = project.settlementCurrency;
  if (!target || target === currency || !usdRates.has(target) || !usdRates.has(currency)) return { amountMinor, currency };
  return { amountMinor: convertMinor(amountMinor, currency, target, usdRates), currency: target };
}

/**
 * Capture, cancel or refund: lock the payment row, check the transition
 * table and the amounts, then write the operation and its job in the same
 * transaction. The lock serialises racing requests; the CHECK constraints on
 * payments are the second line.
 */
export async function acceptFollowUp(
  context: PlatformContext,
  project: Project,
  method: string,
  operationType: FollowUpOperation,
  paymentId: string,
  refund?: RefundBody['payment'],
): Promise<Accepted> {
  const usdRates = await context.usdRates();
  const requestId = newRequestId();
  await withTransaction(context.pool, async (tx) => {
    const payment = await lockPayment(tx, project.id, paymentId);
    if (!payment || payment.method !== method || payment.type === 'payout') throw new GateError('paymentNotFound', paymentId);
    if (!mayStart(operationType, payment.status)) throw new GateError('statusForbidsAction', `payment is ${payment.status}`);
    const amountMinor = operationType === 'refund' ? await reserveRefund(tx, payment, refund) : payment.authorizedMinor;
    const converted = convertedSum(project, amountMinor, payment.currency, usdRates);
    const operation = await insertOperation(tx, {
      paymentRef: payment.ref,
      projectId: project.id,
      type: operationType,
      status: 'processing',
      amountMinor,
      currency: payment.currency,
      convertedAmountMinor: converted.amountMinor,
      convertedCurrency: converted.currency,
      requestId,
    });
    const status = paymentStatusWhileRunning(operationType, payment.status);
    if (status !== payment.status) await updatePayment(tx, payment.ref, { status });
    await context.queue.send(queueNames.operationExecute, { operationId: String(operation.id) }, { db: tx });
  });
  context.queue.wake(queueNames.operationExecute);
  return accepted(project, paymentId, requestId);
}

/** Validates a refund's amount against what is left and reserves it under the row lock. */
async function reserveRefund(tx: import('pg').PoolClient, payment: PaymentRecord, refund: RefundBody['payment'] | undefined): Promise<bigint> {
  if (refund?.amount !== undefined && refund.currency === undefined) throw new GateError('requiredFieldMissing', 'payment.currency is required with payment.amount');
  if (refund?.currency !== undefined && refund.amount === undefined) throw new GateError('requiredFieldMissing', 'payment.amount is required with payment.currency');
  if (refund?.currency !== undefined && refund.currency !== payment.currency) throw new GateError('currencyMismatch', `payment currency is ${payment.currency}`);
  const availableMinor = payment.capturedMinor - payment.refundedMinor - payment.refundReservedMinor;
  const amountMinor = refund?.amount !== undefined ? BigInt(refund.amount) : availableMinor;
  if (amountMinor <= 0n || amountMinor > availableMinor) {
    throw new GateError('refundExceedsAmount', `available for refund: ${availableMinor} ${payment.currency} minor units`);
  }
  const { rows } = await tx.query<{ count: bigint }>(`SELECT count(*) AS count FROM operations WHERE payment_ref = $1 AND type = 'refund'`, [String(payment.ref)]);
  if (Number(rows[0].count) >= refundsPerPaymentMax) throw new GateError('refundLimitExceeded', `at most ${refundsPerPaymentMax} refunds per payment`);
  await updatePayment(tx, payment.ref, { refundReservedMinor: payment.refundReservedMinor + amountMinor });
  return amountMinor;
}
