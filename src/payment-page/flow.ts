import { errorCodes, GateError } from '../domain/errors.ts';
import { assertNever, type PaymentStatus } from '../domain/statuses.ts';
import { isMethodEnabled } from '../gate/method-rules.ts';
import { acceptNewPayment } from '../gate/operations.ts';
import { checkCurrency, checkMerchantUrls, checkPurchaseMaximum } from '../gate/purchase-rules.ts';
import type { SaleBody } from '../gate/schemas.ts';
import { allowsPrivateUrls, type PlatformContext } from '../processing/context.ts';
import { findPayment, type PaymentRecord } from '../store/payments.ts';
import type { Project } from '../store/projects.ts';
import { PageProblem } from './parameters.ts';
import { findSaleProgress, markStarted, type PageSession } from './sessions.ts';
import type { DeclineReason, PaymentSummary } from './views.ts';

/**
 * What the Payment Page does with a payment, whichever way it was opened (a
 * signed URL or a payment link): check it can be paid, create it through the
 * same path as a Gate sale (`acceptNewPayment`: same payment, operation,
 * provider job and callbacks), and tell where it stands.
 */

/** The payment method key in the platform's registry that the page offers. */
export const pageMethod = 'paypal';

/**
 * COF registration through the page (issue 3): a function that accepts a
 * sale carrying the spec's `recurring` object (shape-checked by the page).
 * Until the platform passes one to the plugin, `recurring` with
 * `register: true` gets a "not supported yet" page (501).
 *
 * @example
 * await app.register(paymentPageRoutes, {
 *   context,
 *   registerRecurring: (project, sale) => acceptNewPayment(context, project, 'paypal', 'sale', sale),
 * });
 */
export type RegisterRecurring = (project: Project, sale: SaleBody) => Promise<unknown>;

/** A payment as the page will create it, before it has a session token. */
export interface PaymentDraft {
  projectId: number;
  paymentId: string;
  amountMinor: bigint;
  currency: string;
  description?: string;
  customer: SaleBody['customer'] | Omit<SaleBody['customer'], 'ip_address'>;
  callbackUrl?: string;
  additionalData?: Record<string, unknown>;
}

export function waitPath(token: string): string {
  return `/payment/wait/${token}`;
}

export function resultPath(token: string): string {
  return `/payment/result/${token}`;
}

/** The wallet sends the customer back to these (through Gate's wallet-return endpoint). */
export function resultUrl(context: PlatformContext, token: string, outcome: 'success' | 'decline'): string {
  return `${context.config.publicUrl}${resultPath(token)}?outcome=${outcome}`;
}

/** The Gate sale the page sends for a draft: return URLs point at the page's own result page. */
export function saleBodyFor(context: PlatformContext, draft: PaymentDraft, token: string, customerIp: string): SaleBody {
  const body: SaleBody = {
    general: { project_id: draft.projectId, payment_id: draft.paymentId },
    payment: { amount: Number(draft.amountMinor), currency: draft.currency },
    customer: { ...draft.customer, ip_address: customerIp },
    return_url: { success: resultUrl(context, token, 'success'), decline: resultUrl(context, token, 'decline') },
  };
  if (draft.description !== undefined) body.payment.description = draft.description;
  if (draft.callbackUrl !== undefined) body.general.merchant_callback_url = draft.callbackUrl;
  if (draft.additionalData !== undefined) body.additional_data = draft.additionalData as SaleBody['additional_data'];
  return body;
}

/** Gate's own method check (src/gate/method-rules.ts): enabled, and in production with PayPal credentials. */
export function isPaypalAvailable(context: PlatformContext, project: Project): boolean {
  return isMethodEnabled(context, project, pageMethod);
}

/** A Gate refusal as a page: same registry code, words for the customer. */
export function problemFromGateError(error: GateError): PageProblem {
  if (error.entry.code === errorCodes.paymentIdExists.code) return new PageProblem(409, 'errorConflict', {}, error.entry.code);
  return new PageProblem(error.entry.httpStatus >= 500 ? 500 : 400, 'errorPaymentRefused', { detail: error.message }, error.entry.code);
}

/**
 * The rules Gate applies to a sale (currency, country, 60,000 USD maximum, a
 * callback URL outside our network for production projects), checked before
 * anything is written so the customer sees the refusal on the first page.
 */
export async function checkPurchaseRules(context: PlatformContext, project: Project, draft: PaymentDraft): Promise<void> {
  try {
    checkMerchantUrls({ merchant_callback_url: draft.callbackUrl }, allowsPrivateUrls(context, project));
    checkCurrency(draft.currency, draft.customer.country);
    checkPurchaseMaximum(draft.amountMinor, draft.currency, await context.usdRates(context.pool));
  } catch (error) {
    if (error instanceof GateError) throw problemFromGateError(error);
    throw error;
  }
}

/**
 * Creates the payment exactly as a Gate sale would. Returns false when the
 * payment_id already exists (a double submit, or a race the unique
 * constraint settled); the caller then looks at what exists.
 */
export async function startPayment(
  context: PlatformContext,
  project: Project,
  session: PageSession,
  sale: SaleBody,
  registration?: { recurring: Record<string, unknown>; register: RegisterRecurring },
): Promise<boolean> {
  await markStarted(context.pool, session.token);
  try {
    if (registration) await registration.register(project, { ...sale, recurring: registration.recurring } as SaleBody);
    else await acceptNewPayment(context, project, pageMethod, 'sale', sale);
    return true;
  } catch (error) {
    if (error instanceof GateError && error.entry.code === errorCodes.paymentIdExists.code) return false;
    if (error instanceof GateError) throw problemFromGateError(error);
    throw error;
  }
}

/** Where a page's payment stands, as the customer sees it. */
export type PageView =
  | { kind: 'not started' }
  /** The payment_id belongs to a payment this page did not create (a Gate request). */
  | { kind: 'foreign' }
  | { kind: 'starting'; payment: PaymentRecord; waitedMs: number }
  | { kind: 'approve'; payment: PaymentRecord; approvalUrl: string }
  | { kind: 'pending'; payment: PaymentRecord; waitedMs: number }
  | { kind: 'success'; payment: PaymentRecord }
  | { kind: 'decline'; payment: PaymentRecord; reason: DeclineReason };

function declineReasonOf(code: string | undefined): DeclineReason {
  switch (code) {
    case errorCodes.customerCancelled.code:
      return 'cancelled';
    case errorCodes.generalDecline.code:
    case errorCodes.decline.code:
      return 'declined';
    case errorCodes.thresholdExpired.code:
      return 'expired';
    default:
      return 'other';
  }
}

export type PaymentOutcome = 'success' | 'decline' | 'open';

/** Every payment status, classified for the customer (a new status will not compile until it is placed). */
export function paymentOutcome(status: PaymentStatus): PaymentOutcome {
  switch (status) {
    case 'success':
    case 'partially refunded':
    case 'refunded':
    // A hold is money the customer committed; the page only makes sales, but a hold is not a failure.
    case 'awaiting capture':
      return 'success';
    case 'decline':
    case 'canceled':
    case 'error':
      return 'decline';
    case 'processing':
    case 'awaiting redirect result':
      return 'open';
    default:
      return assertNever(status);
  }
}

export async function pageViewOf(context: PlatformContext, session: PageSession): Promise<PageView> {
  const payment = await findPayment(context.pool, session.projectId, session.paymentId);
  if (!payment) return { kind: 'not started' };
  // Ours when its success return URL is this session's result page (the token is unguessable; the
  // base URL is left out so a changed PUBLIC_URL does not disown payments already made).
  if (!payment.returnUrl.success?.endsWith(`${resultPath(session.token)}?outcome=success`)) return { kind: 'foreign' };
  const now = context.now().getTime();
  const outcome = paymentOutcome(payment.status);
  if (outcome === 'success') return { kind: 'success', payment };
  const progress = await findSaleProgress(context.pool, payment.ref);
  if (outcome === 'decline') return { kind: 'decline', payment, reason: declineReasonOf(progress?.code) };
  if (session.returnedAt) return { kind: 'pending', payment, waitedMs: Math.max(0, now - session.returnedAt.getTime()) };
  if (progress?.approvalUrl) return { kind: 'approve', payment, approvalUrl: progress.approvalUrl };
  const startedAt = session.startedAt ?? session.createdAt;
  return { kind: 'starting', payment, waitedMs: Math.max(0, now - startedAt.getTime()) };
}

export function summaryOf(project: Project, payment: Pick<PaymentRecord, 'amountMinor' | 'currency' | 'description' | 'paymentId'>): PaymentSummary {
  return {
    merchantName: project.name,
    testMode: project.mode === 'test',
    amountMinor: payment.amountMinor,
    currency: payment.currency,
    description: payment.description,
    paymentId: payment.paymentId,
  };
}

/** How long the waiting page refreshes quickly, then slowly, then stops (a bound on polling). */
export const waitingFastMs = 30_000;
export const waitingMaxMs = 10 * 60_000;
