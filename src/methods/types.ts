import type { Project } from '../store/projects.ts';

/**
 * A payment method as the processing layer sees it: stateless calls that take
 * what the platform knows and return a normalised outcome. Methods never touch
 * the database. An outcome that is not known (timeout, 5xx, malformed answer)
 * is thrown as `ProviderOutcomeUnknownError`; the caller retries with the same
 * `requestId`, which the provider treats as idempotent.
 *
 * @example
 *   const outcome = await methods.get('paypal')!.startPurchase(project, { ... });
 *   if (outcome.kind === 'redirect') sendIntermediateCallback(outcome.redirectUrl);
 */
export interface PurchaseStart {
  requestId: string;
  intent: 'sale' | 'auth';
  paymentId: string;
  amountMinor: bigint;
  currency: string;
  description: string;
  returnUrl: string;
  cancelUrl: string;
  payer: { email?: string; firstName?: string; lastName?: string; country?: string };
  /** Save the wallet for later merchant-initiated debits (COF registration). */
  saveForLater: boolean;
}

export interface Payer {
  payerId?: string;
  email?: string;
  name?: string;
}

export type StartOutcome =
  | { kind: 'redirect'; providerPaymentId: string; redirectUrl: string; raw: unknown }
  | { kind: 'decline'; reason: string; raw: unknown };

export interface ProviderSuccess {
  kind: 'success';
  /** The provider's id for this operation (capture, authorization, refund, payout item). */
  providerPaymentId: string;
  providerDate?: Date;
  captureId?: string;
  authorizationId?: string;
  payer?: Payer;
  /** The saved wallet, when the purchase asked to save it. */
  vaultId?: string;
  raw: unknown;
}

export type OperationOutcome =
  | ProviderSuccess
  | { kind: 'pending'; providerPaymentId?: string; raw: unknown }
  | { kind: 'decline'; reason: string; providerPaymentId?: string; raw: unknown };

export interface MoneyInput {
  amountMinor: bigint;
  currency: string;
}

export interface PaymentMethod {
  /** The name merchants see in callbacks' `payment.method`. */
  displayName: string;
  /** The number in callbacks' `operation.provider.id`. */
  providerNumber: number;
  startPurchase(project: Project, input: PurchaseStart): Promise<StartOutcome>;
  /** After the customer approved: capture (sale) or authorize (auth) the order. */
  completePurchase(project: Project, input: { requestId: string; intent: 'sale' | 'auth'; orderId: string }): Promise<OperationOutcome>;
  captureHold(project: Project, input: { requestId: string; authorizationId: string; money: MoneyInput }): Promise<OperationOutcome>;
  releaseHold(project: Project, input: { requestId: string; authorizationId: string }): Promise<OperationOutcome>;
  refund(project: Project, input: { requestId: string; captureId: string; money: MoneyInput; full: boolean; note: string }): Promise<OperationOutcome>;
  payout(project: Project, input: { requestId: string; paymentId: string; money: MoneyInput; receiver: string; note: string }): Promise<OperationOutcome>;
  /** A merchant-initiated debit of a saved wallet (COF purchase): no customer present. */
  debitSaved(project: Project, input: { requestId: string; vaultId: string; money: MoneyInput; paymentId: string; description: string }): Promise<OperationOutcome>;
  /** Removes a saved wallet (COF purchase cancelled). */
  deleteSaved(project: Project, input: { vaultId: string }): Promise<OperationOutcome>;
  /** Re-reads the provider's view of an operation whose outcome is pending or unknown. */
  poll(project: Project, input: { type: 'sale' | 'auth' | 'capture' | 'cancel' | 'refund' | 'payout'; providerPaymentId: string; orderId?: string }): Promise<OperationOutcome>;
}

/** The provider's answer is not known (timeout, 5xx, malformed): retry with the same request id. */
export class ProviderOutcomeUnknownError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}
