import type { Secret } from '../../domain/secret.ts';
import type { Fetcher } from '../../http/outbound.ts';

/*
 * Public types of the PayPal connector: credentials, one input type per
 * operation, the closed status unions of PayPal's REST API, and the
 * normalised results. No behaviour lives here.
 */

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/**
 * Where and as whom the connector talks to PayPal.
 *
 * @example
 * const live: PaypalCredentials = {
 *   baseUrl: 'https://api-m.paypal.com',
 *   clientId: credentials.clientId,
 *   clientSecret: cipher.open(credentials.secret.sealed, paypalSecretContext(project.id)),
 * };
 * const sandbox: PaypalCredentials = {
 *   baseUrl: 'http://127.0.0.1:8080/sandbox/paypal',
 *   clientId: 'gatehouse-sandbox',
 *   clientSecret: new Secret('sandbox-secret'),
 * };
 */
export interface PaypalCredentials {
  /** PayPal's API host (`https://api-m.paypal.com`) or the built-in sandbox, without a trailing slash. */
  baseUrl: string;
  clientId: string;
  clientSecret: Secret;
}

export interface PaypalClientOptions {
  /** Bound on each HTTP exchange (connect, send, read the whole body). Default 10 000 ms. */
  timeoutMs?: number;
  /** The HTTP client: any fetch-shaped function (tests pass wrappers of the global `fetch`). Default: `requestFetcher()`, undici's `request`. */
  fetch?: Fetcher;
  /** Clock for the access-token cache, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/**
 * An amount in PayPal's format: ISO 4217 code plus a decimal string with the
 * currency's number of fraction digits (`"10.50"`, `"1500"` for JPY). The
 * caller computes it from minor units (see `formatDecimal` in `src/domain/money.ts`).
 */
export interface PaypalAmount {
  currencyCode: string;
  value: string;
}

// ---------------------------------------------------------------------------
// Closed status unions (PayPal's wire values). The arrays are the single
// source: the parser accepts exactly these and throws on anything else.
// ---------------------------------------------------------------------------

/** Orders v2 `status`. */
export const PAYPAL_ORDER_STATUSES = ['CREATED', 'SAVED', 'APPROVED', 'VOIDED', 'COMPLETED', 'PAYER_ACTION_REQUIRED'] as const;
export type PaypalOrderStatus = (typeof PAYPAL_ORDER_STATUSES)[number];

/** Payments v2 capture `status`. */
export const PAYPAL_CAPTURE_STATUSES = ['COMPLETED', 'DECLINED', 'PARTIALLY_REFUNDED', 'PENDING', 'REFUNDED', 'FAILED'] as const;
export type PaypalCaptureStatus = (typeof PAYPAL_CAPTURE_STATUSES)[number];

/**
 * Payments v2 authorization `status`. `EXPIRED` is absent from the current SDK
 * enum but documented by PayPal for authorizations past their 29-day validity.
 */
export const PAYPAL_AUTHORIZATION_STATUSES = [
  'CREATED',
  'CAPTURED',
  'DENIED',
  'PARTIALLY_CAPTURED',
  'VOIDED',
  'PENDING',
  'EXPIRED',
] as const;
export type PaypalAuthorizationStatus = (typeof PAYPAL_AUTHORIZATION_STATUSES)[number];

/** Payments v2 refund `status`. */
export const PAYPAL_REFUND_STATUSES = ['COMPLETED', 'PENDING', 'FAILED', 'CANCELLED'] as const;
export type PaypalRefundStatus = (typeof PAYPAL_REFUND_STATUSES)[number];

/** Payouts v1 `batch_header.batch_status`. */
export const PAYPAL_PAYOUT_BATCH_STATUSES = ['NEW', 'PENDING', 'PROCESSING', 'SUCCESS', 'DENIED', 'CANCELED'] as const;
export type PaypalPayoutBatchStatus = (typeof PAYPAL_PAYOUT_BATCH_STATUSES)[number];

/** Payouts v1 item `transaction_status`. */
export const PAYPAL_PAYOUT_ITEM_STATUSES = [
  'SUCCESS',
  'PENDING',
  'UNCLAIMED',
  'ONHOLD',
  'NEW',
  'FAILED',
  'RETURNED',
  'BLOCKED',
  'REFUNDED',
  'REVERSED',
  'DENIED',
] as const;
export type PaypalPayoutItemStatus = (typeof PAYPAL_PAYOUT_ITEM_STATUSES)[number];

/** `verification_status` of `POST /v1/notifications/verify-webhook-signature`. */
export const PAYPAL_WEBHOOK_VERIFICATION_STATUSES = ['SUCCESS', 'FAILURE'] as const;
export type PaypalWebhookVerificationStatus = (typeof PAYPAL_WEBHOOK_VERIFICATION_STATUSES)[number];

/** Vault status of a PayPal wallet in an order's `payment_source.paypal.attributes.vault`. */
export const PAYPAL_VAULT_STATUSES = ['VAULTED', 'CREATED', 'APPROVED'] as const;
export type PaypalVaultStatus = (typeof PAYPAL_VAULT_STATUSES)[number];

/** The kinds of PayPal resource whose statuses the connector classifies. */
export type PaypalResourceKind =
  | 'order'
  | 'capture'
  | 'authorization'
  | 'refund'
  | 'payout_batch'
  | 'payout_item'
  | 'webhook_verification'
  | 'vault';

// ---------------------------------------------------------------------------
// Normalised outcomes
// ---------------------------------------------------------------------------

/**
 * What an operation came to, from the platform's point of view:
 * - `success`: the money moved (or the hold is placed, or the void/refund is done);
 * - `pending`: PayPal accepted it but will finish later (poll or wait for a webhook);
 * - `decline`: final, nothing more will happen; `declineReason` says why;
 * - `action_required`: the customer must approve the order at `approveUrl`;
 * - `approved` (orders only): the customer approved; capture or authorize next.
 * An outcome that cannot be known (timeout, 5xx, network) is never a value:
 * it is a thrown `ProviderUnavailableError`.
 */
export type PaypalOutcome = 'success' | 'pending' | 'decline';
export type PaypalOrderOutcome = PaypalOutcome | 'action_required' | 'approved';

/** Why PayPal said no. */
export interface PaypalDeclineReason {
  /**
   * Machine-readable cause: `details[0].issue` of an error answer
   * (`INSTRUMENT_DECLINED`, `ORDER_NOT_APPROVED`, ...), else the error `name`;
   * for a resource in a failed status, its `status_details.reason` or payout
   * `errors.name`, else the status itself (`DECLINED`, `FAILED`, ...).
   */
  issue: string;
  /** Human-readable text from PayPal, for the operation log. */
  description: string;
  /** `http_error` when PayPal refused the request (400/403/422); `provider_status` when a resource reached a failed status. */
  source: 'http_error' | 'provider_status';
  httpStatus?: number;
  debugId?: string;
}

/** The payer as PayPal reports them after approval. */
export interface PaypalPayer {
  email?: string;
  givenName?: string;
  surname?: string;
  /** PayPal's payer (account) id, `PayerID` on the return URL. */
  payerId?: string;
  countryCode?: string;
}

/** Fields every result carries. */
export interface PaypalResultBase {
  /** The parsed response body, kept for the operation record (never contains credentials). */
  raw: unknown;
  /** PayPal's `debug_id` / `Paypal-Debug-Id`, to quote to PayPal support. */
  debugId?: string;
}

/**
 * Shapes a result: a success/pending (or other non-decline) variant with every
 * field the resource guarantees, and a decline variant with a reason and
 * whatever fields PayPal returned (none when the request itself was refused).
 */
export type PaypalResult<TOutcome extends string, TFields> =
  | (PaypalResultBase & { outcome: Exclude<TOutcome, 'decline'>; declineReason?: undefined } & TFields)
  | (PaypalResultBase & { outcome: 'decline'; declineReason: PaypalDeclineReason } & Partial<TFields>);

/** A capture as found in a capture answer or inside an order. */
export interface PaypalCaptureFields {
  providerStatus: PaypalCaptureStatus;
  captureId: string;
  /** The order the capture belongs to, when PayPal says (order answers, `up` links). */
  orderId?: string;
  /** The authorization it captures, for captures of a hold. */
  authorizationId?: string;
  amount?: PaypalAmount;
  finalCapture?: boolean;
  /** `status_details.reason`, e.g. `PENDING_REVIEW` for a pending capture. */
  statusReason?: string;
  /** Present when the capture came from an order answer. */
  payer?: PaypalPayer;
  /** Vault token created with this payment (order answers with `vault.storeInVault`). */
  vaultId?: string;
  /** `update_time` or else `create_time` of the capture. */
  providerTime?: string;
}
export type CaptureResult = PaypalResult<PaypalOutcome, PaypalCaptureFields>;

/** An authorization (hold) as found in an authorization answer or inside an order. */
export interface PaypalAuthorizationFields {
  providerStatus: PaypalAuthorizationStatus;
  authorizationId: string;
  orderId?: string;
  amount?: PaypalAmount;
  statusReason?: string;
  /** When PayPal will stop honouring the hold. */
  expirationTime?: string;
  payer?: PaypalPayer;
  vaultId?: string;
  providerTime?: string;
}
export type AuthorizationResult = PaypalResult<PaypalOutcome, PaypalAuthorizationFields>;

/** The result of voiding a hold: `success` once the authorization is `VOIDED`. */
export type VoidResult = PaypalResult<PaypalOutcome, PaypalAuthorizationFields>;

export interface PaypalOrderFields {
  providerStatus: PaypalOrderStatus;
  orderId: string;
  intent?: 'CAPTURE' | 'AUTHORIZE';
  /** Where to send the customer: the `payer-action` (or legacy `approve`) link. */
  approveUrl?: string;
  payer?: PaypalPayer;
  vaultId?: string;
  vaultStatus?: PaypalVaultStatus;
  /** PayPal's customer id for the vault, to pass as `vault.customerId` next time. */
  vaultCustomerId?: string;
  referenceId?: string;
  customId?: string;
  amount?: PaypalAmount;
  /** The latest capture of the order's first purchase unit, classified. */
  capture?: PaypalCaptureFields & { outcome: PaypalOutcome };
  /** The latest authorization of the order's first purchase unit, classified. */
  authorization?: PaypalAuthorizationFields & { outcome: PaypalOutcome };
  providerTime?: string;
}
export type OrderResult = PaypalResult<PaypalOrderOutcome, PaypalOrderFields>;

export interface PaypalRefundFields {
  providerStatus: PaypalRefundStatus;
  refundId: string;
  /** The refunded capture, from the refund's `up` link when present. */
  captureId?: string;
  amount?: PaypalAmount;
  statusReason?: string;
  providerTime?: string;
}
export type RefundResult = PaypalResult<PaypalOutcome, PaypalRefundFields>;

export interface PaypalPayoutFields {
  batchId: string;
  /** Known from batch answers; an item answer does not carry it. */
  batchStatus?: PaypalPayoutBatchStatus;
  payoutItemId?: string;
  /** The item's `transaction_status`; it decides the outcome whenever present. */
  itemStatus?: PaypalPayoutItemStatus;
  /** PayPal's transaction id of a paid item. */
  transactionId?: string;
  senderBatchId?: string;
  senderItemId?: string;
  amount?: PaypalAmount;
  receiver?: string;
  providerTime?: string;
}
export type PayoutResult = PaypalResult<PaypalOutcome, PaypalPayoutFields>;

// ---------------------------------------------------------------------------
// Operation inputs
// ---------------------------------------------------------------------------

/**
 * The idempotency key of a POST, sent as `PayPal-Request-Id` (1-108 characters).
 * Use one per logical operation (e.g. derived from the operation id) and
 * reuse it on every retry: PayPal then answers with the first result instead
 * of doing the work twice.
 */
export type PaypalRequestId = string;

export interface CreateOrderInput {
  requestId: PaypalRequestId;
  intent: 'CAPTURE' | 'AUTHORIZE';
  amount: PaypalAmount;
  /** `purchase_units[0].reference_id`: our payment's id, to find the order again. */
  referenceId: string;
  description?: string;
  /** `purchase_units[0].custom_id`, echoed in webhooks and reports (max 127). */
  customId?: string;
  /** `purchase_units[0].invoice_id`: PayPal refuses a second order with the same one. */
  invoiceId?: string;
  /** Where the approval page sends the customer back (`?token=<orderId>&PayerID=...`). Required unless `vaultId`. */
  returnUrl?: string;
  cancelUrl?: string;
  /** Prefills the PayPal login and checkout. */
  payer?: { email?: string; givenName?: string; surname?: string; countryCode?: string };
  /** Save the PayPal wallet for later merchant-initiated (COF) payments. */
  vault?: { storeInVault: boolean; customerId?: string };
  /** Charge a saved PayPal wallet: no approval, the order completes at once. */
  vaultId?: string;
  /** Overrides the brand name shown on the approval page. */
  brandName?: string;
  /** BCP 47 locale for the approval page, e.g. `en-GB`. */
  locale?: string;
}

export interface OrderActionInput {
  orderId: string;
  requestId: PaypalRequestId;
}

export interface CaptureAuthorizationInput {
  authorizationId: string;
  requestId: PaypalRequestId;
  /** Omit to capture the whole authorized amount. */
  amount?: PaypalAmount;
  /** `false` keeps the rest of the hold open for later captures. Default (PayPal): true. */
  finalCapture?: boolean;
  invoiceId?: string;
  noteToPayer?: string;
}

export interface VoidAuthorizationInput {
  authorizationId: string;
  requestId: PaypalRequestId;
}

export interface RefundCaptureInput {
  captureId: string;
  requestId: PaypalRequestId;
  /** Omit for a full refund of what remains. */
  amount?: PaypalAmount;
  /** `note_to_payer`, shown to the customer. */
  note?: string;
  invoiceId?: string;
}

export interface CreatePayoutInput {
  requestId: PaypalRequestId;
  /** `sender_batch_header.sender_batch_id`: PayPal refuses it twice within 30 days. */
  senderBatchId: string;
  senderItemId: string;
  amount: PaypalAmount;
  /** An email address (sent as `EMAIL`) or else a PayPal payer id (`PAYPAL_ID`). */
  receiver: string;
  /** Overrides the guess made from `receiver`. */
  recipientType?: 'EMAIL' | 'PAYPAL_ID' | 'PHONE';
  note?: string;
  emailSubject?: string;
}

export interface VerifyWebhookSignatureInput {
  /** The id PayPal gave the webhook subscription (the sandbox: its `webhookId` option). */
  webhookId: string;
  /** The delivery's HTTP headers (any case); the `paypal-*` transmission headers are read. */
  headers: Record<string, string | string[] | undefined>;
  /**
   * The event. Pass the raw request body as a string when you have it: it is
   * embedded byte for byte, so a re-serialisation cannot change what PayPal checks.
   */
  event: unknown;
}
