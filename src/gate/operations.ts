import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { GateError } from '../domain/errors.ts';
import { convertMinor } from '../domain/fx.ts';
import { calendarDateOf, calendarDaysBetween } from '../domain/recurring.ts';
import { mayStart, paymentStatusWhileRunning, type FollowUpOperation, type OperationType, type PaymentType } from '../domain/statuses.ts';
import { queueNames } from '../jobs/queue.ts';
import { allowsPrivateUrls, clockFor, type PlatformContext } from '../processing/context.ts';
import { holdExpiryDueAt, planHoldExpiry, planThreshold, thresholdDueAt } from '../scheduler/tasks.ts';
import { isUniqueViolation, withTransaction, type Queryable } from '../store/db.ts';
import {
  findPayment,
  insertOperation,
  insertPayment,
  lockPayment,
  lockPaymentByRef,
  updatePayment,
  type NewPayment,
  type OperationRecord,
  type PaymentRecord,
} from '../store/payments.ts';
import type { Project } from '../store/projects.ts';
import { insertRegistration, lockRegistration, updateRegistration, type RegistrationRecord } from '../store/recurring.ts';
import { checkOnboardingGrants } from './permission-rules.ts';
import { NewPaymentWriter, writeNewPaymentIn, type NewPaymentPlan } from './new-payment-writer.ts';
import { checkCurrency, checkIpAddress, checkMerchantUrls, checkPurchaseMaximum } from './purchase-rules.ts';
import { planRegistration, type RegistrationPlan } from './recurring-rules.ts';
import type { AuthBody, PayoutBody, RecurringCancelBody, RecurringDebitBody, RefundBody, SaleBody } from './schemas.ts';

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

type NewPaymentBody = SaleBody | AuthBody | PayoutBody | RecurringDebitBody;

function newPaymentRecord(project: Project, method: string, type: PaymentType, body: NewPaymentBody, createdAt: Date): NewPayment {
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
    createdAt,
  };
}

/** sum_converted: the amount in the project's settlement currency (itself when none is set). */
export function convertedSum(project: Project, amountMinor: bigint, currency: string, usdRates: ReadonlyMap<string, string>) {
  const target = project.settlementCurrency;
  if (!target || target === currency || !usdRates.has(target) || !usdRates.has(currency)) return { amountMinor, currency };
  return { amountMinor: convertMinor(amountMinor, currency, target, usdRates), currency: target };
}

interface OperationStart {
  payment: PaymentRecord;
  type: OperationType;
  amountMinor: bigint;
  currency: string;
  requestId: string;
  usdRates: ReadonlyMap<string, string>;
  now: Date;
}

/**
 * Writes an operation, its threshold (and, for an auth, its hold expiry) and
 * its provider job, in the caller's transaction.
 */
export async function startOperation(context: PlatformContext, tx: pg.PoolClient, project: Project, start: OperationStart): Promise<OperationRecord> {
  const converted = start.currency === '' ? { amountMinor: 0n, currency: '' } : convertedSum(project, start.amountMinor, start.currency, start.usdRates);
  const operation = await insertOperation(tx, {
    paymentRef: start.payment.ref,
    projectId: project.id,
    type: start.type,
    status: 'processing',
    amountMinor: start.amountMinor,
    currency: start.currency,
    convertedAmountMinor: converted.amountMinor,
    convertedCurrency: converted.currency,
    requestId: start.requestId,
    createdAt: start.now,
  });
  await planThreshold(tx, project.id, operation.id, operation.type, start.now);
  if (operation.type === 'auth') await planHoldExpiry(tx, project.id, operation.id, start.now, project.holdPeriodSeconds);
  await context.queue.send(queueNames.operationExecute, { operationId: String(operation.id) }, { db: tx, here: true });
  return operation;
}

/**
 * Accepts a new payment (sale, auth or payout): validate the method's rules,
 * then write payment, first operation, its timers and the provider job in one
 * transaction. A duplicate payment_id, also from a racing request, hits the
 * unique constraint and answers 3041 with nothing written. `db` is the Gate's
 * pool (`gatePool`), or the transaction of an audited Dashboard action, which this one joins.
 */
export async function acceptNewPayment(
  context: PlatformContext,
  project: Project,
  method: string,
  operationType: Extract<OperationType, 'sale' | 'auth' | 'payout'>,
  body: SaleBody | AuthBody | PayoutBody,
  db: Queryable = context.gatePool,
): Promise<Accepted> {
  checkIpAddress(body.customer.ip_address);
  checkCurrency(body.payment.currency, body.customer.country);
  checkMerchantUrls(
    {
      'general.merchant_callback_url': body.general.merchant_callback_url,
      ...('return_url' in body ? { 'return_url.success': body.return_url.success, 'return_url.decline': body.return_url.decline, 'return_url.return': body.return_url.return } : {}),
    },
    allowsPrivateUrls(context, project),
  );
  const usdRates = await context.usdRates(db);
  const amountMinor = BigInt(body.payment.amount);
  if (operationType !== 'payout') checkPurchaseMaximum(amountMinor, body.payment.currency, usdRates);
  const now = clockFor(context, project);
  // Only purchases register COF purchases; a payout's `recurring` is an unknown extra field (and unvalidated).
  const registers = operationType !== 'payout' && 'recurring' in body && body.recurring?.register === true;
  const recurring = registers ? planRegistration((body as SaleBody | AuthBody).recurring!, body.general.payment_id, now) : undefined;
  const requestId = newRequestId();
  const paymentType: PaymentType = operationType === 'payout' ? 'payout' : 'purchase';
  const payment = newPaymentRecord(project, method, paymentType, body, now);
  if (!recurring) {
    const plan = newPaymentPlan(project, method, payment, operationType, requestId, usdRates);
    await writeNewPayment(context, db, plan);
    return accepted(project, body.general.payment_id, requestId);
  }
  try {
    await withTransaction(db, async (tx) => {
      await checkOnboardingGrants(tx, project, method, operationType);
      const registered = await registerRecurring(tx, project, await insertPayment(tx, payment), recurring, now);
      await startOperation(context, tx, project, { payment: registered, type: operationType, amountMinor, currency: body.payment.currency, requestId, usdRates, now });
    });
  } catch (error) {
    if (isUniqueViolation(error, 'payments_project_id_payment_id_key')) throw new GateError('paymentIdExists', body.general.payment_id);
    if (isUniqueViolation(error, 'recurring_registrations_project_id_scheduled_payment_id_key')) {
      throw new GateError('cofInvalid', 'recurring.scheduled_payment_id is already used in this project');
    }
    throw error;
  }
  return accepted(project, body.general.payment_id, requestId);
}

/** A new payment without a COF registration: its rows, timers included, for one multi-row write. */
function newPaymentPlan(
  project: Project,
  method: string,
  payment: NewPayment,
  type: Extract<OperationType, 'sale' | 'auth' | 'payout'>,
  requestId: string,
  usdRates: ReadonlyMap<string, string>,
): NewPaymentPlan {
  const converted = convertedSum(project, payment.amountMinor, payment.currency, usdRates);
  return {
    project,
    method,
    row: {
      payment,
      operation: {
        type,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        convertedAmountMinor: converted.amountMinor,
        convertedCurrency: converted.currency,
        requestId,
      },
      thresholdDueAt: thresholdDueAt(type, payment.createdAt),
      holdExpiryDueAt: type === 'auth' ? holdExpiryDueAt(payment.createdAt, project.holdPeriodSeconds) : undefined,
    },
  };
}

/** This node's group writer of new payments (one per running platform). */
const writers = new WeakMap<PlatformContext, NewPaymentWriter>();

/**
 * Through the node's group writer when `db` is the Gate's pool (a Gate request);
 * in the caller's own transaction otherwise (an audited Dashboard action),
 * with the same statement.
 */
async function writeNewPayment(context: PlatformContext, db: Queryable, plan: NewPaymentPlan): Promise<void> {
  if (db === context.gatePool) {
    let writer = writers.get(context);
    if (!writer) writers.set(context, (writer = new NewPaymentWriter(context)));
    await writer.write(plan);
    return;
  }
  await writeNewPaymentIn(context, db, plan);
}

/** Writes a pending COF registration for a purchase; it becomes active when the purchase succeeds. */
async function registerRecurring(tx: pg.PoolClient, project: Project, payment: PaymentRecord, plan: RegistrationPlan, now: Date): Promise<PaymentRecord> {
  if (plan.scheduledPaymentId !== undefined && (await findPayment(tx, project.id, plan.scheduledPaymentId))) {
    throw new GateError('cofInvalid', 'recurring.scheduled_payment_id is already used in this project');
  }
  const registration = await insertRegistration(tx, {
    projectId: project.id,
    paymentRef: payment.ref,
    type: plan.type,
    currency: payment.currency,
    amountMinor: plan.amountMinor,
    period: plan.period,
    interval: plan.interval,
    timeOfDaySeconds: plan.timeOfDaySeconds,
    startDate: plan.startDate,
    expiry: plan.expiry,
    scheduledPaymentId: plan.scheduledPaymentId,
    createdAt: now,
  });
  return updatePayment(tx, payment.ref, { recurringId: registration.id }, now);
}

/**
 * Capture, cancel or refund: lock the payment row, check the transition
 * table and the amounts, then write the operation and its job in the same
 * transaction. The lock serialises racing requests; the CHECK constraints on
 * payments are the second line. `db` as for `acceptNewPayment`.
 */
export async function acceptFollowUp(
  context: PlatformContext,
  project: Project,
  method: string,
  operationType: FollowUpOperation,
  paymentId: string,
  refund?: RefundBody['payment'],
  db: Queryable = context.gatePool,
): Promise<Accepted> {
  const usdRates = await context.usdRates(db);
  const requestId = newRequestId();
  await withTransaction(db, async (tx) => {
    await checkOnboardingGrants(tx, project, method, operationType);
    const payment = await lockPayment(tx, project.id, paymentId);
    if (!payment || payment.method !== method || payment.type === 'payout') throw new GateError('paymentNotFound', paymentId);
    await startFollowUp(context, tx, project, payment, operationType, { refund, requestId, usdRates });
  });
  return accepted(project, paymentId, requestId);
}

/** A follow-up on a payment locked by the caller (also used by the hold-expiry timer). */
export async function startFollowUp(
  context: PlatformContext,
  tx: pg.PoolClient,
  project: Project,
  payment: PaymentRecord,
  operationType: FollowUpOperation,
  options: { refund?: RefundBody['payment']; requestId: string; usdRates: ReadonlyMap<string, string> },
): Promise<OperationRecord> {
  if (!mayStart(operationType, payment.status)) throw new GateError('statusForbidsAction', `payment is ${payment.status}`);
  const now = clockFor(context, project);
  const amountMinor = operationType === 'refund' ? await reserveRefund(tx, payment, options.refund, now) : payment.authorizedMinor;
  const operation = await startOperation(context, tx, project, {
    payment,
    type: operationType,
    amountMinor,
    currency: payment.currency,
    requestId: options.requestId,
    usdRates: options.usdRates,
    now,
  });
  const status = paymentStatusWhileRunning(operationType, payment.status);
  if (status !== payment.status) await updatePayment(tx, payment.ref, { status }, now);
  return operation;
}

/** Validates a refund's amount against what is left and reserves it under the row lock. */
async function reserveRefund(tx: pg.PoolClient, payment: PaymentRecord, refund: RefundBody['payment'] | undefined, now: Date): Promise<bigint> {
  if (refund?.amount !== undefined && refund.currency === undefined) throw new GateError('requiredFieldMissing', 'payment.currency is required with payment.amount');
  if (refund?.currency !== undefined && refund.amount === undefined) throw new GateError('requiredFieldMissing', 'payment.amount is required with payment.currency');
  if (refund?.currency !== undefined && refund.currency !== payment.currency) throw new GateError('currencyMismatch', `payment currency is ${payment.currency}`);
  const availableMinor = payment.capturedMinor - payment.refundedMinor - payment.refundReservedMinor - payment.chargebackMinor;
  const amountMinor = refund?.amount !== undefined ? BigInt(refund.amount) : availableMinor;
  if (amountMinor <= 0n || amountMinor > availableMinor) {
    throw new GateError('refundExceedsAmount', `available for refund: ${availableMinor} ${payment.currency} minor units`);
  }
  const { rows } = await tx.query<{ count: bigint }>(`SELECT count(*) AS count FROM operations WHERE payment_ref = $1 AND type = 'refund'`, [String(payment.ref)]);
  if (Number(rows[0].count) >= refundsPerPaymentMax) throw new GateError('refundLimitExceeded', `at most ${refundsPerPaymentMax} refunds per payment`);
  await updatePayment(tx, payment.ref, { refundReservedMinor: payment.refundReservedMinor + amountMinor }, now);
  return amountMinor;
}

/** Refuses debits on a registration that cannot be debited, with the spec's 3181-3184 codes. */
export function checkDebitable(registration: RegistrationRecord | undefined, now: Date): asserts registration is RegistrationRecord {
  if (!registration) throw new GateError('cofNotFound');
  if (registration.status === 'cancelled') throw new GateError('cofCancelled');
  if (registration.status === 'expired') throw new GateError('cofExpired');
  if (registration.status !== 'active' || !registration.vaultId) throw new GateError('cofInvalid', `registration is ${registration.status}`);
  if (registration.expiry && calendarDaysBetween(calendarDateOf(now), registration.expiry) < 0) throw new GateError('cofExpired');
}

export interface RecurringDebit {
  registration: RegistrationRecord;
  paymentId: string;
  amountMinor: bigint;
  currency: string;
  customer: PaymentRecord['customer'];
  description: string;
  callback: { url: string | null; delaySeconds: number; disabled: boolean };
  additionalData: Record<string, unknown> | null;
}

/** Writes a COF debit: a `recurring` payment, its operation and job, in the caller's transaction. */
export async function startRecurringDebit(context: PlatformContext, tx: pg.PoolClient, project: Project, debit: RecurringDebit, now: Date): Promise<string> {
  const usdRates = await context.usdRates(tx);
  const payment = await insertPayment(tx, {
    projectId: project.id,
    paymentId: debit.paymentId,
    type: 'recurring',
    method: 'paypal',
    status: 'processing',
    currency: debit.currency,
    amountMinor: debit.amountMinor,
    description: debit.description,
    customer: debit.customer,
    accountNumber: null,
    returnUrl: {},
    additionalData: debit.additionalData,
    callbackUrl: debit.callback.url,
    callbackDelaySeconds: debit.callback.delaySeconds,
    callbackDisabled: debit.callback.disabled,
    recurringId: debit.registration.id,
    createdAt: now,
  });
  const requestId = newRequestId();
  await startOperation(context, tx, project, { payment, type: 'recurring', amountMinor: debit.amountMinor, currency: debit.currency, requestId, usdRates, now });
  return requestId;
}

/** POST /v2/payment/wallet/{method}/recurring: an on-demand debit of a registered COF purchase. */
export async function acceptRecurringDebit(context: PlatformContext, project: Project, body: RecurringDebitBody): Promise<Accepted> {
  checkIpAddress(body.customer.ip_address);
  checkMerchantUrls({ 'general.merchant_callback_url': body.general.merchant_callback_url }, allowsPrivateUrls(context, project));
  const now = clockFor(context, project);
  let requestId = '';
  try {
    await withTransaction(context.gatePool, async (tx) => {
      await checkOnboardingGrants(tx, project, 'paypal', 'recurring');
      const registration = await lockRegistration(tx, project.id, BigInt(body.recurring.id));
      if (registration?.status === 'active' && registration.expiry && calendarDaysBetween(calendarDateOf(now), registration.expiry) < 0) {
        await updateRegistration(tx, registration.id, { status: 'expired' });
        throw new GateError('cofExpired');
      }
      checkDebitable(registration, now);
      if (body.payment.currency !== registration.currency) throw new GateError('currencyMismatch', `the COF purchase is in ${registration.currency}`);
      const usdRates = await context.usdRates(tx);
      checkPurchaseMaximum(BigInt(body.payment.amount), body.payment.currency, usdRates);
      const origin = await lockPaymentByRef(tx, registration.paymentRef);
      requestId = await startRecurringDebit(
        context,
        tx,
        project,
        {
          registration,
          paymentId: body.general.payment_id,
          amountMinor: BigInt(body.payment.amount),
          currency: body.payment.currency,
          customer: { ...origin.customer, ...body.customer },
          description: body.payment.description ?? origin.description,
          callback: { url: body.general.merchant_callback_url ?? null, delaySeconds: body.callback?.delay ?? 0, disabled: body.callback?.force_disable ?? false },
          additionalData: body.additional_data ?? null,
        },
        now,
      );
    });
  } catch (error) {
    if (isUniqueViolation(error, 'payments_project_id_payment_id_key')) throw new GateError('paymentIdExists', body.general.payment_id);
    throw error;
  }
  return accepted(project, body.general.payment_id, requestId);
}

/**
 * POST /v2/payment/wallet/{method}/recurring/cancel: stops future debits at
 * once (pending scheduled debits are cancelled in the same transaction), then
 * a job removes the saved wallet at the provider and reports the
 * `recurring_cancel` operation on the registering payment (spec figure 38).
 */
export async function acceptRecurringCancel(context: PlatformContext, project: Project, body: RecurringCancelBody): Promise<Accepted> {
  const now = clockFor(context, project);
  const requestId = newRequestId();
  await withTransaction(context.gatePool, async (tx) => {
    const registration = await lockRegistration(tx, project.id, BigInt(body.recurring.id));
    if (!registration) throw new GateError('cofNotFound');
    if (registration.status === 'cancelled') throw new GateError('cofCancelled');
    if (registration.status === 'expired') throw new GateError('cofExpired');
    if (registration.status !== 'active') throw new GateError('cofInvalid', `registration is ${registration.status}`);
    // Future debits stop here: the debit timer re-reads this status under the same lock.
    await updateRegistration(tx, registration.id, { status: 'cancelled', cancelledAt: now });
    const origin = await lockPaymentByRef(tx, registration.paymentRef);
    await startOperation(context, tx, project, { payment: origin, type: 'recurring_cancel', amountMinor: 0n, currency: '', requestId, usdRates: new Map(), now });
  });
  return accepted(project, body.general.payment_id, requestId);
}
