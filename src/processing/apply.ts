import type pg from 'pg';
import { errorCodes } from '../domain/errors.ts';
import { isFinalOperationStatus, paymentStatusAfter, type OperationOutcome as FinalOutcome, type PaymentStatus } from '../domain/statuses.ts';
import type { Payer } from '../methods/types.ts';
import type { CallbackContext } from '../callbacks/body.ts';
import { ledgerPart, postOperationToLedger } from '../ledger/post.ts';
import { planFirstDebit } from '../scheduler/recurring.ts';
import { withTransaction } from '../store/db.ts';
import {
  lockOperationWithPayment,
  readOperationWithPayment,
  updateIfUnchanged,
  updateOperation,
  updatePaymentAndOperation,
  type LockedOperation,
  type ObservedOperation,
  type OperationChanges,
  type OperationRecord,
  type OperationWithPayment,
  type PaymentChanges,
  type PaymentRecord,
} from '../store/payments.ts';
import type { Project } from '../store/projects.ts';
import { findRegistrationOfPayment, updateRegistration } from '../store/recurring.ts';
import { clockFor, type PlatformContext } from './context.ts';
import { callbackPart, enqueueCallback, type GuardedCallback } from './outbox.ts';

/** A provider result to record on an operation. */
export type ProviderResult =
  | { kind: 'redirect'; providerPaymentId: string; redirectUrl: string; raw?: unknown }
  | { kind: 'pending'; providerPaymentId?: string; raw?: unknown }
  | {
      kind: 'final';
      outcome: FinalOutcome;
      code: string;
      message: string;
      providerPaymentId?: string;
      providerDate?: Date;
      captureId?: string;
      authorizationId?: string;
      payer?: Payer;
      /** A saved wallet (COF registration). */
      vaultId?: string;
      raw?: unknown;
    };

type FinalResult = Extract<ProviderResult, { kind: 'final' }>;

export function successResult(input: Omit<FinalResult, 'kind' | 'outcome' | 'code' | 'message'>): ProviderResult {
  return { kind: 'final', outcome: 'success', code: errorCodes.success.code, message: errorCodes.success.message, ...input };
}

export function declineResult(operationType: string, reason: string, raw?: unknown, providerPaymentId?: string): ProviderResult {
  // The spec's figures: purchases, holds and payouts decline with 20000
  // "General decline"; refunds with 20100 "Decline".
  const entry = operationType === 'refund' ? errorCodes.decline : errorCodes.generalDecline;
  return { kind: 'final', outcome: 'decline', code: entry.code, message: entry.message, raw: raw ?? { reason }, providerPaymentId };
}

/**
 * Records a provider result. Idempotent: a result for an operation that is
 * already final changes nothing (duplicate webhooks, retried jobs), so each
 * outcome is applied and reported once. Returns false when nothing changed.
 *
 * The common case takes one or two round trips (`applyUnlessChanged`); anything
 * else, and any result that meets a concurrent change, is applied under the
 * payment's row lock (`applyProviderResultIn`). Both decide with the same
 * functions (`redirectWrite`, `finalWrite`).
 */
export async function applyProviderResult(context: PlatformContext, operationId: bigint, result: ProviderResult, observed?: ObservedForResult): Promise<boolean> {
  const applied = await applyUnlessChanged(context, operationId, result, observed);
  return applied ?? withTransaction(context.pool, (tx) => applyProviderResultIn(context, tx, operationId, result));
}

/** The same, under the payment's row lock, inside the caller's transaction. */
export async function applyProviderResultIn(context: PlatformContext, tx: pg.PoolClient, operationId: bigint, result: ProviderResult): Promise<boolean> {
  const locked = await lockOperationWithPayment(tx, operationId, new Date());
  if (!locked) throw new Error(`operation ${operationId} not found`);
  const { payment, operation, project, fee } = locked;
  if (isFinalOperationStatus(operation.status)) return false;
  switch (result.kind) {
    case 'redirect':
      return recordRedirect(context, tx, project, payment, operation, result);
    case 'pending':
      if (result.providerPaymentId && result.providerPaymentId !== operation.providerPaymentId) {
        await updateOperation(tx, operation.id, { providerPaymentId: result.providerPaymentId, providerResponse: result.raw });
      }
      return false;
    case 'final':
      return recordFinal(context, tx, project, { payment, operation, fee }, result);
    default:
      return result satisfies never;
  }
}

/**
 * The rows a job read before it called the provider (`findOpenOperationWithPayment`),
 * with its project: the result is written against them without reading again.
 */
export type ObservedForResult = ObservedOperation & { project: Project };

/**
 * A redirect or final result in one or two round trips instead of five or six
 * (BEGIN, lock, update, ledger, callback, COMMIT): the rows are read without
 * locks (or were, by the job, before the provider call: `observed`), and the
 * updates, the ledger entries and the callback are written in ONE statement
 * that first checks neither row changed since (`updateIfUnchanged`). The
 * callback reports the rows as this statement writes them, computed from the
 * read and the changes (`withChanges`). Undefined when this path does not
 * apply: a pending result, a COF registration to settle, an operation that
 * is gone, or rows that changed.
 */
async function applyUnlessChanged(context: PlatformContext, operationId: bigint, result: ProviderResult, observed?: ObservedForResult): Promise<boolean | undefined> {
  if (result.kind === 'pending') return undefined;
  const read = observed ?? (await readOperationWithPayment(context.pool, operationId, new Date()));
  if (!read) return undefined;
  const { payment, operation, project, fee, versions } = read;
  // A final status never changes again, so an unlocked read of one is enough to know there is nothing to do.
  if (isFinalOperationStatus(operation.status)) return false;
  if (result.kind === 'redirect') {
    if (operation.status === 'awaiting redirect result') return false;
    const write = redirectWrite(context, project, payment, operation, result);
    const callback = callbackPart(context, project, 'intermediate', { ...withChanges(payment, operation, write), redirectData: redirectData(result) });
    return wroteUnlessChanged(await updateIfUnchanged(context.pool, versions, write.payment, write.operation, [callback.part], callback.selected), callback);
  }
  if (payment.recurringId !== null) return undefined;
  const write = finalWrite(context, project, payment, operation, result);
  const updated = withChanges(payment, operation, write);
  const ledger = ledgerPart(updated.operation, fee);
  const callback = callbackPart(context, project, 'final', updated);
  const parts = ledger ? [ledger, callback.part] : [callback.part];
  return wroteUnlessChanged(await updateIfUnchanged(context.pool, versions, write.payment, write.operation, parts, callback.selected), callback);
}

function wroteUnlessChanged(written: Record<string, unknown> | undefined, callback: GuardedCallback): true | undefined {
  if (!written) return undefined;
  callback.committed(BigInt(written.callback_id as bigint));
  return true;
}

/** What a result writes on the payment and the operation. */
interface ResultWrite {
  payment: { ref: bigint; changes: PaymentChanges; updatedAt: Date };
  operation: { id: bigint; changes: OperationChanges };
}

/** The payment and operation as `write` leaves them: what the callback reports. */
function withChanges(payment: PaymentRecord, operation: OperationRecord, write: ResultWrite): OperationWithPayment {
  const { providerResponse: _stored, ...operationChanges } = write.operation.changes;
  return {
    payment: { ...payment, ...write.payment.changes, updatedAt: write.payment.updatedAt },
    operation: { ...operation, ...operationChanges },
  };
}

function redirectData(result: Extract<ProviderResult, { kind: 'redirect' }>): CallbackContext['redirectData'] {
  return { method: 'GET', url: result.redirectUrl, body: {} };
}

function redirectWrite(
  context: PlatformContext,
  project: Project,
  payment: PaymentRecord,
  operation: OperationRecord,
  result: Extract<ProviderResult, { kind: 'redirect' }>,
): ResultWrite {
  return {
    payment: { ref: payment.ref, changes: { status: 'awaiting redirect result', providerOrderId: result.providerPaymentId }, updatedAt: clockFor(context, project) },
    operation: {
      id: operation.id,
      changes: { status: 'awaiting redirect result', providerPaymentId: result.providerPaymentId, providerResponse: { redirectUrl: result.redirectUrl, provider: result.raw } },
    },
  };
}

async function recordRedirect(
  context: PlatformContext,
  tx: pg.PoolClient,
  project: Project,
  payment: PaymentRecord,
  operation: OperationRecord,
  result: Extract<ProviderResult, { kind: 'redirect' }>,
): Promise<boolean> {
  if (operation.status === 'awaiting redirect result') return false;
  const write = redirectWrite(context, project, payment, operation, result);
  const updated = await updatePaymentAndOperation(tx, write.payment, write.operation);
  await enqueueCallback(context, tx, project, 'intermediate', { ...updated, redirectData: redirectData(result) });
  return true;
}

function finalWrite(context: PlatformContext, project: Project, payment: PaymentRecord, operation: OperationRecord, result: FinalResult): ResultWrite {
  const now = clockFor(context, project);
  const changes = moneyChanges(payment, operation, result);
  const capturedMinor = changes.capturedMinor ?? payment.capturedMinor;
  const refundedMinor = changes.refundedMinor ?? payment.refundedMinor;
  changes.status = paymentStatusAfter(operation.type, result.outcome, statusBefore(payment, operation), { capturedMinor, refundedMinor });
  return {
    payment: { ref: payment.ref, changes, updatedAt: now },
    operation: {
      id: operation.id,
      changes: {
        status: result.outcome,
        code: result.code,
        message: result.message,
        providerPaymentId: result.providerPaymentId ?? operation.providerPaymentId,
        providerDate: result.outcome === 'success' ? (result.providerDate ?? now) : null,
        providerResponse: result.raw,
        completedAt: now,
      },
    },
  };
}

async function recordFinal(
  context: PlatformContext,
  tx: pg.PoolClient,
  project: Project,
  { payment, operation, fee }: Pick<LockedOperation, 'payment' | 'operation' | 'fee'>,
  result: FinalResult,
): Promise<boolean> {
  const write = finalWrite(context, project, payment, operation, result);
  const { payment: updatedPayment, operation: updatedOperation } = await updatePaymentAndOperation(tx, write.payment, write.operation);
  // The ledger entries commit with the final status, or neither does.
  await postOperationToLedger(tx, updatedOperation, fee);
  const recurring = await settleRegistration(context, tx, project, updatedPayment, operation, result, write.payment.updatedAt);
  await enqueueCallback(context, tx, project, 'final', { payment: updatedPayment, operation: updatedOperation, recurring });
  return true;
}

/**
 * A purchase that registers a COF purchase activates the registration when it
 * succeeds (and plans the first scheduled debit) or fails it when it does not.
 * Returns the `recurring` object its callback carries.
 */
async function settleRegistration(
  context: PlatformContext,
  tx: pg.PoolClient,
  project: Project,
  payment: PaymentRecord,
  operation: OperationRecord,
  result: FinalResult,
  now: Date,
): Promise<{ id: number; currency: string } | undefined> {
  if (payment.recurringId === null) return undefined;
  const recurring = { id: Number(payment.recurringId), currency: payment.currency };
  // Debits carry the registration (spec figure 37); a cancellation does not (figure 38).
  if (operation.type === 'recurring') return recurring;
  if (operation.type !== 'sale' && operation.type !== 'auth') return undefined;
  const registration = await findRegistrationOfPayment(tx, payment.ref);
  if (!registration || registration.status !== 'pending') return recurring;
  if (result.outcome !== 'success' || !result.vaultId) {
    await updateRegistration(tx, registration.id, { status: 'failed' });
    if (result.outcome === 'success') context.log.error({ paymentRef: String(payment.ref) }, 'COF registration succeeded without a saved wallet');
    return undefined;
  }
  await updateRegistration(tx, registration.id, { status: 'active', vaultId: result.vaultId });
  await planFirstDebit(tx, project, { ...registration, status: 'active', vaultId: result.vaultId }, now);
  return recurring;
}

/** The status to fall back to on a decline: what the payment was before this operation started. */
function statusBefore(payment: PaymentRecord, operation: OperationRecord): PaymentStatus {
  if (operation.type === 'capture' || operation.type === 'cancel') return 'awaiting capture';
  return payment.status;
}

/** How an outcome moves the payment's money columns. */
function moneyChanges(payment: PaymentRecord, operation: OperationRecord, result: FinalResult): PaymentChanges {
  const success = result.outcome === 'success';
  const payerChanges: PaymentChanges = result.payer
    ? { payer: result.payer, accountNumber: payment.accountNumber ?? result.payer.payerId ?? null }
    : {};
  switch (operation.type) {
    case 'sale':
    case 'recurring':
      return success
        ? { ...payerChanges, authorizedMinor: operation.amountMinor, capturedMinor: operation.amountMinor, providerCaptureId: result.captureId ?? null }
        : payerChanges;
    case 'auth':
      return success ? { ...payerChanges, authorizedMinor: operation.amountMinor, providerAuthorizationId: result.authorizationId ?? null } : payerChanges;
    case 'capture':
      return success ? { capturedMinor: operation.amountMinor, providerCaptureId: result.captureId ?? null } : {};
    case 'refund':
      return {
        refundReservedMinor: payment.refundReservedMinor - operation.amountMinor,
        ...(success ? { refundedMinor: payment.refundedMinor + operation.amountMinor } : {}),
      };
    case 'chargeback':
      return success ? { chargebackMinor: payment.chargebackMinor + operation.amountMinor } : {};
    case 'cancel':
    case 'payout':
    case 'recurring_cancel':
      return {};
    default:
      return operation.type satisfies never;
  }
}
