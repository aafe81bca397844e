import { errorCodes } from '../domain/errors.ts';
import { assertNever } from '../domain/statuses.ts';
import { queueNames } from '../jobs/queue.ts';
import type { OperationOutcome, PaymentMethod } from '../methods/types.ts';
import { findOpenOperationWithPayment } from '../store/payments.ts';
import { findRegistration, findRegistrationOfPayment } from '../store/recurring.ts';
import { applyProviderResult, declineResult, successResult, type ObservedForResult, type ProviderResult } from './apply.ts';
import { methodOf, type PlatformContext } from './context.ts';
import { walletReturnUrl } from './return-urls.ts';

/**
 * Job handlers that move operations forward by calling the payment method.
 * Each is idempotent: it re-reads the operation, does nothing if it is final,
 * and calls the provider with the operation's request id, so a job retried
 * after a crash or timeout never repeats an effect at the provider.
 */
interface Loaded extends ObservedForResult {
  method: PaymentMethod;
}

/**
 * The open operation a job is about, or undefined once it is final. A job that
 * goes on to call the provider counts the try in the same statement.
 */
async function load(context: PlatformContext, operationId: bigint, countAttempt: boolean): Promise<Loaded | undefined> {
  const open = await findOpenOperationWithPayment(context.pool, operationId, { countAttempt });
  if (!open) return undefined;
  const project = await context.projects.find(open.payment.projectId, context.now());
  if (!project) throw new Error(`operation ${operationId} lost its project`);
  return { ...open, project, method: methodOf(context, open.payment.method) };
}

/** Converts a method outcome into a result to record. */
export function toProviderResult(operationType: string, outcome: OperationOutcome): ProviderResult {
  switch (outcome.kind) {
    case 'success':
      return successResult({
        providerPaymentId: outcome.providerPaymentId,
        providerDate: outcome.providerDate,
        captureId: outcome.captureId,
        authorizationId: outcome.authorizationId,
        payer: outcome.payer,
        vaultId: outcome.vaultId,
        raw: outcome.raw,
      });
    case 'pending':
      return { kind: 'pending', providerPaymentId: outcome.providerPaymentId, raw: outcome.raw };
    case 'decline':
      return declineResult(operationType, outcome.reason, outcome.raw, outcome.providerPaymentId);
    default:
      return assertNever(outcome);
  }
}

/** First provider call of an operation. */
export async function executeOperation(context: PlatformContext, operationId: bigint): Promise<void> {
  const loaded = await load(context, operationId, true);
  if (!loaded) return;
  const { operation, payment, project, method } = loaded;
  const money = { amountMinor: operation.amountMinor, currency: operation.currency };
  switch (operation.type) {
    case 'sale':
    case 'auth': {
      if (operation.status === 'awaiting redirect result') return;
      const outcome = await method.startPurchase(project, {
        requestId: operation.requestId,
        intent: operation.type,
        paymentId: payment.paymentId,
        amountMinor: operation.amountMinor,
        currency: operation.currency,
        description: payment.description,
        returnUrl: walletReturnUrl(context, payment.method, operation.id, 'approved'),
        cancelUrl: walletReturnUrl(context, payment.method, operation.id, 'cancelled'),
        payer: {
          email: payment.customer.email,
          firstName: payment.customer.first_name,
          lastName: payment.customer.last_name,
          country: payment.customer.country,
        },
        saveForLater: payment.recurringId !== null,
      });
      const result: ProviderResult =
        outcome.kind === 'redirect'
          ? { kind: 'redirect', providerPaymentId: outcome.providerPaymentId, redirectUrl: outcome.redirectUrl, raw: outcome.raw }
          : declineResult(operation.type, outcome.reason, outcome.raw);
      await applyProviderResult(context, operation.id, result, loaded);
      return;
    }
    case 'capture':
      return finish(context, loaded, await method.captureHold(project, { requestId: operation.requestId, authorizationId: required(payment.providerAuthorizationId), money }));
    case 'cancel':
      return finish(context, loaded, await method.releaseHold(project, { requestId: operation.requestId, authorizationId: required(payment.providerAuthorizationId) }));
    case 'refund':
      return finish(
        context,
        loaded,
        await method.refund(project, {
          requestId: operation.requestId,
          captureId: required(payment.providerCaptureId),
          money,
          full: operation.amountMinor === payment.capturedMinor,
          note: payment.description,
        }),
      );
    case 'payout':
      return finish(
        context,
        loaded,
        await method.payout(project, { requestId: operation.requestId, paymentId: payment.paymentId, money, receiver: required(payment.accountNumber), note: payment.description }),
      );
    case 'recurring': {
      const registration = payment.recurringId === null ? undefined : await findRegistration(context.pool, project.id, payment.recurringId);
      return finish(
        context,
        loaded,
        await method.debitSaved(project, {
          requestId: operation.requestId,
          vaultId: required(registration?.vaultId ?? null),
          money,
          paymentId: payment.paymentId,
          description: payment.description,
        }),
      );
    }
    case 'recurring_cancel': {
      const registration = await findRegistrationOfPayment(context.pool, payment.ref);
      return finish(context, loaded, await method.deleteSaved(project, { vaultId: required(registration?.vaultId ?? null) }));
    }
    case 'chargeback':
      throw new Error('chargebacks are recorded from provider events, never executed');
    default:
      return assertNever(operation.type);
  }
}

/** The customer approved at the wallet: capture (sale) or authorize (auth) the order. */
export async function completeOperation(context: PlatformContext, operationId: bigint): Promise<void> {
  const loaded = await load(context, operationId, true);
  if (!loaded) return;
  const { operation, payment, project, method } = loaded;
  if (operation.type !== 'sale' && operation.type !== 'auth') return;
  if (!payment.providerOrderId) throw new Error(`operation ${operationId} has no provider order yet`);
  const outcome = await method.completePurchase(project, { requestId: `${operation.requestId}-complete`, intent: operation.type, orderId: payment.providerOrderId });
  await finish(context, loaded, outcome);
}

/** Polls a pending operation; reschedules itself with growing gaps until the outcome is final. */
export async function pollOperation(context: PlatformContext, operationId: bigint, pollNumber: number): Promise<void> {
  const loaded = await load(context, operationId, false);
  if (!loaded) return;
  const { operation, payment, project, method } = loaded;
  const type = operation.type;
  if (type === 'recurring' || type === 'recurring_cancel' || type === 'chargeback') return;
  const providerPaymentId = operation.providerPaymentId || payment.providerOrderId || '';
  if (!providerPaymentId) return;
  const outcome = await method.poll(project, { type, providerPaymentId, orderId: payment.providerOrderId ?? undefined });
  await finish(context, loaded, outcome, pollNumber);
}

/** Polls stop after this many tries (about three days with the capped gap); then the threshold rule declines. */
export const pollsMax = 450;

/** Records the outcome against the rows the job read before the call; a pending one schedules the next poll. */
async function finish(context: PlatformContext, loaded: Loaded, outcome: OperationOutcome, pollNumber = 0): Promise<void> {
  const { operation } = loaded;
  const result = toProviderResult(operation.type, outcome);
  await applyProviderResult(context, operation.id, result, loaded);
  if (result.kind !== 'pending') return;
  if (pollNumber >= pollsMax) {
    await applyProviderResult(context, operation.id, {
      kind: 'final',
      outcome: 'decline',
      code: errorCodes.thresholdExpired.code,
      message: errorCodes.thresholdExpired.message,
    });
    return;
  }
  const delaySeconds = Math.min(600, 2 ** Math.min(pollNumber, 10));
  await context.queue.send(queueNames.operationPoll, { operationId: String(operation.id), pollNumber: pollNumber + 1 }, { startAfterSeconds: delaySeconds });
}

function required(value: string | null): string {
  if (!value) throw new Error('the provider reference this operation needs is missing');
  return value;
}
