/*
 * Pure conversions between the connector's types and PayPal's JSON: request
 * bodies out, normalised results in. No I/O, no clock, no randomness, so every
 * rule here is unit-tested without a server.
 *
 * Status classification is a set of exhaustive switches over closed unions
 * ending in a `never` check: adding a status to a union without deciding its
 * outcome fails to compile, and a status PayPal sends that is not in a union
 * throws UnknownProviderStatusError rather than being read as "pending".
 */
import { MalformedProviderResponseError, UnknownProviderStatusError } from './errors.ts';
import {
  PAYPAL_AUTHORIZATION_STATUSES,
  PAYPAL_CAPTURE_STATUSES,
  PAYPAL_ORDER_STATUSES,
  PAYPAL_PAYOUT_BATCH_STATUSES,
  PAYPAL_PAYOUT_ITEM_STATUSES,
  PAYPAL_REFUND_STATUSES,
  PAYPAL_VAULT_STATUSES,
  PAYPAL_WEBHOOK_VERIFICATION_STATUSES,
  type AuthorizationResult,
  type CaptureAuthorizationInput,
  type CaptureResult,
  type CreateOrderInput,
  type CreatePayoutInput,
  type OrderResult,
  type PaypalAmount,
  type PaypalAuthorizationFields,
  type PaypalAuthorizationStatus,
  type PaypalCaptureFields,
  type PaypalCaptureStatus,
  type PaypalDeclineReason,
  type PaypalOrderFields,
  type PaypalOrderOutcome,
  type PaypalOrderStatus,
  type PaypalOutcome,
  type PaypalPayer,
  type PaypalPayoutBatchStatus,
  type PaypalPayoutFields,
  type PaypalPayoutItemStatus,
  type PaypalRefundFields,
  type PaypalRefundStatus,
  type PaypalResourceKind,
  type PaypalVaultStatus,
  type PaypalWebhookVerificationStatus,
  type PayoutResult,
  type RefundCaptureInput,
  type RefundResult,
  type VerifyWebhookSignatureInput,
  type VoidResult,
} from './types.ts';

function assertNever(value: never, what: string): never {
  throw new Error(`unhandled ${what}: ${String(value)}`);
}

// ---------------------------------------------------------------------------
// Status parsing: closed unions, unknown values are errors
// ---------------------------------------------------------------------------

function parseStatus<T extends string>(resource: PaypalResourceKind, allowed: readonly T[], value: unknown): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new UnknownProviderStatusError(resource, value);
}

export const parseOrderStatus = (value: unknown): PaypalOrderStatus => parseStatus('order', PAYPAL_ORDER_STATUSES, value);
export const parseCaptureStatus = (value: unknown): PaypalCaptureStatus => parseStatus('capture', PAYPAL_CAPTURE_STATUSES, value);
export const parseAuthorizationStatus = (value: unknown): PaypalAuthorizationStatus =>
  parseStatus('authorization', PAYPAL_AUTHORIZATION_STATUSES, value);
export const parseRefundStatus = (value: unknown): PaypalRefundStatus => parseStatus('refund', PAYPAL_REFUND_STATUSES, value);
export const parsePayoutBatchStatus = (value: unknown): PaypalPayoutBatchStatus =>
  parseStatus('payout_batch', PAYPAL_PAYOUT_BATCH_STATUSES, value);
export const parsePayoutItemStatus = (value: unknown): PaypalPayoutItemStatus =>
  parseStatus('payout_item', PAYPAL_PAYOUT_ITEM_STATUSES, value);
export const parseWebhookVerificationStatus = (value: unknown): PaypalWebhookVerificationStatus =>
  parseStatus('webhook_verification', PAYPAL_WEBHOOK_VERIFICATION_STATUSES, value);
export const parseVaultStatus = (value: unknown): PaypalVaultStatus => parseStatus('vault', PAYPAL_VAULT_STATUSES, value);

// ---------------------------------------------------------------------------
// Status classification
// ---------------------------------------------------------------------------

/**
 * An order's own status, except COMPLETED, whose outcome is that of the
 * capture or authorization inside it (see {@link toOrderResult}).
 */
export function orderOutcome(status: Exclude<PaypalOrderStatus, 'COMPLETED'>): PaypalOrderOutcome {
  switch (status) {
    case 'CREATED':
    case 'SAVED':
    case 'PAYER_ACTION_REQUIRED':
      return 'action_required';
    case 'APPROVED':
      return 'approved';
    case 'VOIDED':
      return 'decline';
    default:
      return assertNever(status, 'order status');
  }
}

/** A capture's outcome: did the money move. A later refund does not undo the capture's success. */
export function captureOutcome(status: PaypalCaptureStatus): PaypalOutcome {
  switch (status) {
    case 'COMPLETED':
    case 'REFUNDED':
    case 'PARTIALLY_REFUNDED':
      return 'success';
    case 'PENDING':
      return 'pending';
    case 'DECLINED':
    case 'FAILED':
      return 'decline';
    default:
      return assertNever(status, 'capture status');
  }
}

/**
 * An authorization's outcome for the `auth` operation: is (or was) the hold placed.
 * CAPTURED and PARTIALLY_CAPTURED are successes of the hold; VOIDED and EXPIRED
 * mean there is no hold to rely on.
 */
export function authorizationOutcome(status: PaypalAuthorizationStatus): PaypalOutcome {
  switch (status) {
    case 'CREATED':
    case 'CAPTURED':
    case 'PARTIALLY_CAPTURED':
      return 'success';
    case 'PENDING':
      return 'pending';
    case 'DENIED':
    case 'VOIDED':
    case 'EXPIRED':
      return 'decline';
    default:
      return assertNever(status, 'authorization status');
  }
}

/**
 * An authorization's outcome for the `cancel` (void) operation: is the hold released.
 * A hold still CREATED or PENDING after a void answer is not known to be
 * released: pending, read it again. A captured, denied or expired hold cannot
 * be voided: decline.
 */
export function voidOutcome(status: PaypalAuthorizationStatus): PaypalOutcome {
  switch (status) {
    case 'VOIDED':
      return 'success';
    case 'CREATED':
    case 'PENDING':
      return 'pending';
    case 'CAPTURED':
    case 'PARTIALLY_CAPTURED':
    case 'DENIED':
    case 'EXPIRED':
      return 'decline';
    default:
      return assertNever(status, 'authorization status');
  }
}

export function refundOutcome(status: PaypalRefundStatus): PaypalOutcome {
  switch (status) {
    case 'COMPLETED':
      return 'success';
    case 'PENDING':
      return 'pending';
    case 'FAILED':
    case 'CANCELLED':
      return 'decline';
    default:
      return assertNever(status, 'refund status');
  }
}

/** A payout item's outcome. UNCLAIMED (receiver has no account yet) may still be claimed within 30 days. */
export function payoutItemOutcome(status: PaypalPayoutItemStatus): PaypalOutcome {
  switch (status) {
    case 'SUCCESS':
      return 'success';
    case 'NEW':
    case 'PENDING':
    case 'UNCLAIMED':
    case 'ONHOLD':
      return 'pending';
    case 'FAILED':
    case 'RETURNED':
    case 'BLOCKED':
    case 'REFUNDED':
    case 'REVERSED':
    case 'DENIED':
      return 'decline';
    default:
      return assertNever(status, 'payout item status');
  }
}

/**
 * A payout batch's outcome, used only when the answer has no item: a batch
 * SUCCESS says the batch was processed, not that the item was paid, so it
 * stays pending until the item is read.
 */
export function payoutBatchOutcome(status: PaypalPayoutBatchStatus): PaypalOutcome {
  switch (status) {
    case 'NEW':
    case 'PENDING':
    case 'PROCESSING':
    case 'SUCCESS':
      return 'pending';
    case 'DENIED':
    case 'CANCELED':
      return 'decline';
    default:
      return assertNever(status, 'payout batch status');
  }
}

export function webhookVerificationOutcome(status: PaypalWebhookVerificationStatus): boolean {
  switch (status) {
    case 'SUCCESS':
      return true;
    case 'FAILURE':
      return false;
    default:
      return assertNever(status, 'webhook verification status');
  }
}

// ---------------------------------------------------------------------------
// Reading JSON defensively
// ---------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireObject(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new MalformedProviderResponseError(`expected an object at ${what}`);
  return value;
}

function requireString(object: JsonObject, key: string, what: string): string {
  const value = object[key];
  if (typeof value !== 'string' || value.length === 0) throw new MalformedProviderResponseError(`expected a string at ${what}.${key}`);
  return value;
}

function optionalString(object: JsonObject | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function optionalObject(object: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = object?.[key];
  return isObject(value) ? value : undefined;
}

function objectArray(object: JsonObject | undefined, key: string): JsonObject[] {
  const value = object?.[key];
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function readAmount(object: JsonObject | undefined, currencyKey = 'currency_code'): PaypalAmount | undefined {
  const currencyCode = optionalString(object, currencyKey);
  const value = optionalString(object, 'value');
  return currencyCode && value ? { currencyCode, value } : undefined;
}

/** The `href` of the first HATEOAS link with one of the given `rel`s. */
function linkHref(object: JsonObject, ...relations: string[]): string | undefined {
  for (const relation of relations) {
    const link = objectArray(object, 'links').find((candidate) => candidate.rel === relation);
    const href = optionalString(link, 'href');
    if (href) return href;
  }
  return undefined;
}

/** The last path segment of a link, e.g. the order id of a capture's `up` link. */
function lastPathSegment(href: string | undefined, parentSegment: string): string | undefined {
  if (!href || !URL.canParse(href, 'http://relative.invalid')) return undefined;
  const segments = new URL(href, 'http://relative.invalid').pathname.split('/').filter(Boolean);
  const index = segments.lastIndexOf(parentSegment);
  if (index < 0 || index + 1 >= segments.length) return undefined;
  try {
    return decodeURIComponent(segments[index + 1]);
  } catch {
    return undefined;
  }
}

function latestTime(object: JsonObject | undefined): string | undefined {
  return optionalString(object, 'update_time') ?? optionalString(object, 'create_time');
}

function withoutUndefined<T extends object>(object: T): T {
  for (const key of Object.keys(object) as (keyof T)[]) {
    if (object[key] === undefined) delete object[key];
  }
  return object;
}

// ---------------------------------------------------------------------------
// Errors answered by PayPal (400/403/422) → declines
// ---------------------------------------------------------------------------

/**
 * Reads PayPal's error body `{name, message, debug_id, details: [{issue, description}]}`.
 * Returns undefined when the body is not such an error (the caller then treats
 * the answer as malformed).
 */
export function declineReasonFromErrorBody(
  body: unknown,
  httpStatus: number,
  headerDebugId?: string,
): PaypalDeclineReason | undefined {
  if (!isObject(body)) return undefined;
  const name = optionalString(body, 'name') ?? optionalString(body, 'error');
  const firstDetail = objectArray(body, 'details')[0];
  const issue = optionalString(firstDetail, 'issue') ?? name;
  if (!issue) return undefined;
  const description =
    optionalString(firstDetail, 'description') ??
    optionalString(body, 'message') ??
    optionalString(body, 'error_description') ??
    issue;
  const debugId = optionalString(body, 'debug_id') ?? headerDebugId;
  return withoutUndefined<PaypalDeclineReason>({ issue, description, source: 'http_error', httpStatus, debugId });
}

function statusDeclineReason(
  resource: string,
  status: string,
  statusReason: string | undefined,
  debugId: string | undefined,
): PaypalDeclineReason {
  return withoutUndefined({
    issue: statusReason ?? status,
    description: `PayPal ${resource} status ${status}${statusReason ? ` (${statusReason})` : ''}`,
    source: 'provider_status' as const,
    debugId,
  });
}

/** A result for a request PayPal refused outright: nothing was created. */
export function declinedByError(declineReason: PaypalDeclineReason, raw: unknown): { outcome: 'decline'; declineReason: PaypalDeclineReason; raw: unknown; debugId?: string } {
  return withoutUndefined({ outcome: 'decline' as const, declineReason, raw, debugId: declineReason.debugId });
}

// ---------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------

const REQUEST_ID_MAX_LENGTH = 108;
const AMOUNT_VALUE_PATTERN = /^\d{1,15}(\.\d{1,3})?$/;
const CURRENCY_CODE_PATTERN = /^[A-Z]{3}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Rejects inputs that would make PayPal answer 400: a caller bug, thrown before anything is sent. */
export function assertRequestId(requestId: string): void {
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > REQUEST_ID_MAX_LENGTH) {
    throw new RangeError(`requestId must be 1-${REQUEST_ID_MAX_LENGTH} characters`);
  }
}

export function assertAmount(amount: PaypalAmount): void {
  if (!CURRENCY_CODE_PATTERN.test(amount.currencyCode)) throw new RangeError(`not an ISO 4217 code: ${amount.currencyCode}`);
  if (!AMOUNT_VALUE_PATTERN.test(amount.value)) throw new RangeError(`not a PayPal decimal amount: ${amount.value}`);
}

export function assertResourceId(id: string, what: string): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 255) throw new RangeError(`${what} must be 1-255 characters`);
}

function toPaypalMoney(amount: PaypalAmount): { currency_code: string; value: string } {
  assertAmount(amount);
  return { currency_code: amount.currencyCode, value: amount.value };
}

/**
 * `POST /v2/checkout/orders`. A customer-present order asks for approval at
 * the `payer-action` link (with `PAY_NOW`, no shipping, optional vaulting); an
 * order with `vaultId` charges a saved wallet and completes without approval.
 */
export function buildCreateOrderBody(input: CreateOrderInput): JsonObject {
  const purchaseUnit = withoutUndefined({
    reference_id: input.referenceId,
    description: input.description,
    custom_id: input.customId,
    invoice_id: input.invoiceId,
    amount: toPaypalMoney(input.amount),
  });
  const body: JsonObject = { intent: input.intent, purchase_units: [purchaseUnit] };

  if (input.vaultId !== undefined) {
    assertResourceId(input.vaultId, 'vaultId');
    body.payment_source = { paypal: { vault_id: input.vaultId } };
    return body;
  }

  if (!input.returnUrl) throw new RangeError('returnUrl is required unless vaultId is given');
  const paypal: JsonObject = {
    experience_context: withoutUndefined({
      return_url: input.returnUrl,
      cancel_url: input.cancelUrl ?? input.returnUrl,
      user_action: 'PAY_NOW',
      shipping_preference: 'NO_SHIPPING',
      brand_name: input.brandName,
      locale: input.locale,
    }),
  };
  if (input.payer?.email) paypal.email_address = input.payer.email;
  if (input.payer?.givenName || input.payer?.surname) {
    paypal.name = withoutUndefined({ given_name: input.payer.givenName, surname: input.payer.surname });
  }
  if (input.payer?.countryCode) paypal.address = { country_code: input.payer.countryCode };
  if (input.vault?.storeInVault) {
    paypal.attributes = withoutUndefined({
      customer: input.vault.customerId ? { id: input.vault.customerId } : undefined,
      vault: { store_in_vault: 'ON_SUCCESS', usage_type: 'MERCHANT', customer_type: 'CONSUMER', permit_multiple_payment_tokens: false },
    });
  }
  body.payment_source = { paypal };
  return body;
}

/** `POST /v2/payments/authorizations/{id}/capture`; an empty object captures the full amount, final. */
export function buildCaptureAuthorizationBody(input: CaptureAuthorizationInput): JsonObject {
  return withoutUndefined({
    amount: input.amount ? toPaypalMoney(input.amount) : undefined,
    final_capture: input.finalCapture,
    invoice_id: input.invoiceId,
    note_to_payer: input.noteToPayer,
  });
}

/** `POST /v2/payments/captures/{id}/refund`; an empty object refunds what remains. */
export function buildRefundBody(input: RefundCaptureInput): JsonObject {
  return withoutUndefined({
    amount: input.amount ? toPaypalMoney(input.amount) : undefined,
    note_to_payer: input.note,
    invoice_id: input.invoiceId,
  });
}

/** An email address is sent as `EMAIL`, anything else as a PayPal payer id. */
export function recipientTypeFor(receiver: string): 'EMAIL' | 'PAYPAL_ID' {
  return EMAIL_PATTERN.test(receiver) ? 'EMAIL' : 'PAYPAL_ID';
}

/** `POST /v1/payments/payouts` with one item. Payouts v1 names the currency `currency`, not `currency_code`. */
export function buildPayoutBody(input: CreatePayoutInput): JsonObject {
  assertAmount(input.amount);
  assertResourceId(input.senderBatchId, 'senderBatchId');
  assertResourceId(input.senderItemId, 'senderItemId');
  if (!input.receiver) throw new RangeError('receiver is required');
  return {
    sender_batch_header: withoutUndefined({ sender_batch_id: input.senderBatchId, email_subject: input.emailSubject }),
    items: [
      withoutUndefined({
        recipient_type: input.recipientType ?? recipientTypeFor(input.receiver),
        amount: { value: input.amount.value, currency: input.amount.currencyCode },
        receiver: input.receiver,
        note: input.note,
        sender_item_id: input.senderItemId,
      }),
    ],
  };
}

const WEBHOOK_HEADERS = {
  auth_algo: 'paypal-auth-algo',
  cert_url: 'paypal-cert-url',
  transmission_id: 'paypal-transmission-id',
  transmission_sig: 'paypal-transmission-sig',
  transmission_time: 'paypal-transmission-time',
} as const;

/**
 * `POST /v1/notifications/verify-webhook-signature` body as text, or undefined
 * when a transmission header is missing (such a delivery cannot be valid).
 * A string event is embedded verbatim so that PayPal checks the exact bytes it
 * signed; an object is serialised with JSON.stringify.
 */
export function buildVerifyWebhookBody(input: VerifyWebhookSignatureInput): string | undefined {
  const lowerCaseHeaders = new Map<string, string>();
  for (const [name, value] of Object.entries(input.headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') lowerCaseHeaders.set(name.toLowerCase(), first);
  }
  const fields: Record<string, string> = {};
  for (const [field, header] of Object.entries(WEBHOOK_HEADERS)) {
    const value = lowerCaseHeaders.get(header);
    if (!value) return undefined;
    fields[field] = value;
  }
  let eventText: string;
  if (typeof input.event === 'string') {
    try {
      if (!isObject(JSON.parse(input.event))) return undefined;
    } catch {
      return undefined;
    }
    eventText = input.event;
  } else {
    if (!isObject(input.event)) return undefined;
    eventText = JSON.stringify(input.event);
  }
  const head = JSON.stringify({ ...fields, webhook_id: input.webhookId });
  return `${head.slice(0, -1)},"webhook_event":${eventText}}`;
}

// ---------------------------------------------------------------------------
// Responses → results
// ---------------------------------------------------------------------------

function readPayer(order: JsonObject): PaypalPayer | undefined {
  const payer = optionalObject(order, 'payer');
  const wallet = optionalObject(optionalObject(order, 'payment_source'), 'paypal');
  const payerName = optionalObject(payer, 'name') ?? optionalObject(wallet, 'name');
  const result = withoutUndefined<PaypalPayer>({
    email: optionalString(payer, 'email_address') ?? optionalString(wallet, 'email_address'),
    givenName: optionalString(payerName, 'given_name'),
    surname: optionalString(payerName, 'surname'),
    payerId: optionalString(payer, 'payer_id') ?? optionalString(wallet, 'account_id'),
    countryCode:
      optionalString(optionalObject(payer, 'address'), 'country_code') ??
      optionalString(optionalObject(wallet, 'address'), 'country_code'),
  });
  return Object.keys(result).length > 0 ? result : undefined;
}

function readVault(order: JsonObject): { vaultId?: string; vaultStatus?: PaypalVaultStatus; vaultCustomerId?: string } {
  const wallet = optionalObject(optionalObject(order, 'payment_source'), 'paypal');
  const vault = optionalObject(optionalObject(wallet, 'attributes'), 'vault');
  if (!vault) return {};
  const status = vault.status === undefined ? undefined : parseVaultStatus(vault.status);
  return withoutUndefined({
    vaultId: optionalString(vault, 'id'),
    vaultStatus: status,
    vaultCustomerId: optionalString(optionalObject(vault, 'customer'), 'id'),
  });
}

function readCaptureFields(capture: JsonObject, what: string): PaypalCaptureFields {
  const providerStatus = parseCaptureStatus(capture.status);
  const relatedIds = optionalObject(optionalObject(capture, 'supplementary_data'), 'related_ids');
  return withoutUndefined<PaypalCaptureFields>({
    providerStatus,
    captureId: requireString(capture, 'id', what),
    orderId: optionalString(relatedIds, 'order_id') ?? lastPathSegment(linkHref(capture, 'up'), 'orders'),
    authorizationId: optionalString(relatedIds, 'authorization_id') ?? lastPathSegment(linkHref(capture, 'up'), 'authorizations'),
    amount: readAmount(optionalObject(capture, 'amount')),
    finalCapture: typeof capture.final_capture === 'boolean' ? capture.final_capture : undefined,
    statusReason: optionalString(optionalObject(capture, 'status_details'), 'reason'),
    providerTime: latestTime(capture),
  });
}

function readAuthorizationFields(authorization: JsonObject, what: string): PaypalAuthorizationFields {
  return withoutUndefined<PaypalAuthorizationFields>({
    providerStatus: parseAuthorizationStatus(authorization.status),
    authorizationId: requireString(authorization, 'id', what),
    orderId:
      optionalString(optionalObject(optionalObject(authorization, 'supplementary_data'), 'related_ids'), 'order_id') ??
      lastPathSegment(linkHref(authorization, 'up'), 'orders'),
    amount: readAmount(optionalObject(authorization, 'amount')),
    statusReason: optionalString(optionalObject(authorization, 'status_details'), 'reason'),
    expirationTime: optionalString(authorization, 'expiration_time'),
    providerTime: latestTime(authorization),
  });
}

/** Makes a classified result out of fields and an outcome, with a reason when it is a decline. */
function classified<TFields extends { providerStatus: string; statusReason?: string }>(
  resource: string,
  outcome: PaypalOutcome,
  fields: TFields,
  raw: unknown,
  debugId: string | undefined,
) {
  if (outcome === 'decline') {
    return withoutUndefined({
      outcome,
      declineReason: statusDeclineReason(resource, fields.providerStatus, fields.statusReason, debugId),
      ...fields,
      raw,
      debugId,
    });
  }
  return withoutUndefined({ outcome, ...fields, raw, debugId });
}

function firstPurchaseUnitPayments(order: JsonObject): { captures: JsonObject[]; authorizations: JsonObject[] } {
  const unit = objectArray(order, 'purchase_units')[0];
  const payments = optionalObject(unit, 'payments');
  return { captures: objectArray(payments, 'captures'), authorizations: objectArray(payments, 'authorizations') };
}

/** Orders v2 order → OrderResult. */
export function toOrderResult(body: unknown, debugId?: string): OrderResult {
  const order = requireObject(body, 'order');
  const orderId = requireString(order, 'id', 'order');
  const providerStatus = parseOrderStatus(order.status);
  const unit = objectArray(order, 'purchase_units')[0];
  const { captures, authorizations } = firstPurchaseUnitPayments(order);
  const payer = readPayer(order);
  const vault = readVault(order);
  const lastCapture = captures.at(-1);
  const lastAuthorization = authorizations.at(-1);
  const capture = lastCapture ? readCaptureFields(lastCapture, 'order.purchase_units[0].payments.captures[]') : undefined;
  const authorization = lastAuthorization
    ? readAuthorizationFields(lastAuthorization, 'order.purchase_units[0].payments.authorizations[]')
    : undefined;
  const intentValue = order.intent;
  const intent = intentValue === 'CAPTURE' || intentValue === 'AUTHORIZE' ? intentValue : undefined;

  const fields: PaypalOrderFields = withoutUndefined<PaypalOrderFields>({
    providerStatus,
    orderId,
    intent,
    approveUrl: linkHref(order, 'payer-action', 'approve'),
    payer,
    ...vault,
    referenceId: optionalString(unit, 'reference_id'),
    customId: optionalString(unit, 'custom_id'),
    amount: readAmount(optionalObject(unit, 'amount')),
    capture: capture ? { ...capture, outcome: captureOutcome(capture.providerStatus) } : undefined,
    authorization: authorization
      ? { ...authorization, outcome: authorizationOutcome(authorization.providerStatus) }
      : undefined,
    providerTime: latestTime(order),
  });

  if (providerStatus !== 'COMPLETED') {
    const outcome = orderOutcome(providerStatus);
    if (outcome === 'decline') {
      return { outcome, declineReason: statusDeclineReason('order', providerStatus, undefined, debugId), ...fields, raw: body, ...(debugId ? { debugId } : {}) };
    }
    return withoutUndefined({ outcome, ...fields, raw: body, debugId });
  }

  // A completed order is as good as the payment inside it. The intent says
  // which one decides; without an intent, a capture wins over a hold.
  const decisive =
    intent === 'AUTHORIZE'
      ? fields.authorization
      : intent === 'CAPTURE'
        ? fields.capture
        : (fields.capture ?? fields.authorization);
  if (!decisive) throw new MalformedProviderResponseError('a COMPLETED order has no capture or authorization');
  if (decisive.outcome === 'decline') {
    const resource = 'captureId' in decisive ? 'capture' : 'authorization';
    return {
      ...fields,
      outcome: 'decline',
      declineReason: statusDeclineReason(resource, decisive.providerStatus, decisive.statusReason, debugId),
      raw: body,
      ...(debugId ? { debugId } : {}),
    };
  }
  return withoutUndefined({ ...fields, outcome: decisive.outcome, raw: body, debugId });
}

/** An order answer (capture of an order) → the result of its latest capture. */
export function toCaptureResultFromOrder(body: unknown, debugId?: string): CaptureResult {
  const order = requireObject(body, 'order');
  const orderId = requireString(order, 'id', 'order');
  parseOrderStatus(order.status);
  const capture = firstPurchaseUnitPayments(order).captures.at(-1);
  if (!capture) throw new MalformedProviderResponseError('the order answer has no capture');
  const fields = readCaptureFields(capture, 'order.purchase_units[0].payments.captures[]');
  const payer = readPayer(order);
  const { vaultId } = readVault(order);
  return classified('capture', captureOutcome(fields.providerStatus), withoutUndefined({ ...fields, orderId, payer, vaultId }), body, debugId);
}

/** A capture answer (Payments v2) → CaptureResult. */
export function toCaptureResult(body: unknown, debugId?: string): CaptureResult {
  const fields = readCaptureFields(requireObject(body, 'capture'), 'capture');
  return classified('capture', captureOutcome(fields.providerStatus), fields, body, debugId);
}

/** An order answer (authorize of an order) → the result of its latest authorization. */
export function toAuthorizationResultFromOrder(body: unknown, debugId?: string): AuthorizationResult {
  const order = requireObject(body, 'order');
  const orderId = requireString(order, 'id', 'order');
  parseOrderStatus(order.status);
  const authorization = firstPurchaseUnitPayments(order).authorizations.at(-1);
  if (!authorization) throw new MalformedProviderResponseError('the order answer has no authorization');
  const fields = readAuthorizationFields(authorization, 'order.purchase_units[0].payments.authorizations[]');
  const payer = readPayer(order);
  const { vaultId } = readVault(order);
  return classified(
    'authorization',
    authorizationOutcome(fields.providerStatus),
    withoutUndefined({ ...fields, orderId, payer, vaultId }),
    body,
    debugId,
  );
}

/** An authorization answer (Payments v2) → AuthorizationResult. */
export function toAuthorizationResult(body: unknown, debugId?: string): AuthorizationResult {
  const fields = readAuthorizationFields(requireObject(body, 'authorization'), 'authorization');
  return classified('authorization', authorizationOutcome(fields.providerStatus), fields, body, debugId);
}

/**
 * A void answer → VoidResult. PayPal answers 204 without a body unless it
 * honours `Prefer: return=representation`; a 204 means the hold is voided.
 */
export function toVoidResult(body: unknown, authorizationId: string, debugId?: string): VoidResult {
  if (body === undefined) {
    return withoutUndefined({ outcome: 'success' as const, providerStatus: 'VOIDED' as const, authorizationId, raw: null, debugId });
  }
  const fields = readAuthorizationFields(requireObject(body, 'authorization'), 'authorization');
  return classified('authorization', voidOutcome(fields.providerStatus), fields, body, debugId);
}

/** A refund answer → RefundResult. */
export function toRefundResult(body: unknown, debugId?: string): RefundResult {
  const refund = requireObject(body, 'refund');
  const fields = withoutUndefined<PaypalRefundFields>({
    providerStatus: parseRefundStatus(refund.status),
    refundId: requireString(refund, 'id', 'refund'),
    captureId: lastPathSegment(linkHref(refund, 'up'), 'captures'),
    amount: readAmount(optionalObject(refund, 'amount')),
    statusReason: optionalString(optionalObject(refund, 'status_details'), 'reason'),
    providerTime: latestTime(refund),
  });
  return classified('refund', refundOutcome(fields.providerStatus), fields, body, debugId);
}

function readPayoutItem(item: JsonObject, what: string): Omit<PaypalPayoutFields, 'batchId'> & { batchId?: string; failure?: string } {
  const payoutItem = optionalObject(item, 'payout_item');
  const errors = optionalObject(item, 'errors');
  return withoutUndefined({
    batchId: optionalString(item, 'payout_batch_id'),
    payoutItemId: requireString(item, 'payout_item_id', what),
    itemStatus: parsePayoutItemStatus(item.transaction_status),
    transactionId: optionalString(item, 'transaction_id'),
    senderItemId: optionalString(payoutItem, 'sender_item_id') ?? optionalString(item, 'sender_item_id'),
    amount: readAmount(optionalObject(payoutItem, 'amount'), 'currency'),
    receiver: optionalString(payoutItem, 'receiver'),
    providerTime: optionalString(item, 'time_processed'),
    failure: optionalString(errors, 'name'),
  });
}

function payoutResult(fields: PaypalPayoutFields, failure: string | undefined, raw: unknown, debugId: string | undefined): PayoutResult {
  const outcome = fields.itemStatus ? payoutItemOutcome(fields.itemStatus) : payoutBatchOutcome(fields.batchStatus!);
  if (outcome === 'decline') {
    const status = fields.itemStatus ?? fields.batchStatus!;
    const resource = fields.itemStatus ? 'payout item' : 'payout batch';
    return { outcome, declineReason: statusDeclineReason(resource, status, failure, debugId), ...fields, raw, ...(debugId ? { debugId } : {}) };
  }
  return withoutUndefined({ outcome, ...fields, raw, debugId });
}

/**
 * A payout batch answer (create, or `GET /v1/payments/payouts/{id}`) →
 * PayoutResult. With an item (the connector sends one per batch), the item's
 * status decides; without one, the batch status does.
 */
export function toPayoutResultFromBatch(body: unknown, debugId?: string): PayoutResult {
  const batch = requireObject(body, 'payout batch');
  const header = requireObject(batch.batch_header, 'payout batch.batch_header');
  const batchId = requireString(header, 'payout_batch_id', 'batch_header');
  const batchStatus = parsePayoutBatchStatus(header.batch_status);
  const senderBatchId = optionalString(optionalObject(header, 'sender_batch_header'), 'sender_batch_id');
  const firstItem = objectArray(batch, 'items')[0];
  const item = firstItem ? readPayoutItem(firstItem, 'items[0]') : undefined;
  const { failure, batchId: _itemBatchId, ...itemFields } = item ?? {};
  const fields = withoutUndefined<PaypalPayoutFields>({
    batchId,
    batchStatus,
    senderBatchId,
    ...itemFields,
    providerTime: itemFields.providerTime ?? optionalString(header, 'time_completed') ?? optionalString(header, 'time_created'),
  });
  return payoutResult(fields, failure, body, debugId);
}

/** A payout item answer (`GET /v1/payments/payouts-item/{id}`) → PayoutResult. */
export function toPayoutResultFromItem(body: unknown, debugId?: string): PayoutResult {
  const item = readPayoutItem(requireObject(body, 'payout item'), 'payout item');
  const { failure, batchId, ...itemFields } = item;
  if (!batchId) throw new MalformedProviderResponseError('expected a string at payout item.payout_batch_id');
  return payoutResult(withoutUndefined<PaypalPayoutFields>({ batchId, ...itemFields }), failure, body, debugId);
}

/** A verify-webhook-signature answer → true only for `SUCCESS`. */
export function toWebhookVerification(body: unknown): boolean {
  const answer = requireObject(body, 'verification');
  return webhookVerificationOutcome(parseWebhookVerificationStatus(answer.verification_status));
}

/** The OAuth2 token answer → the token and how long it lives. */
export function toAccessToken(body: unknown): { accessToken: string; expiresInSeconds: number } {
  const answer = requireObject(body, 'token');
  const accessToken = requireString(answer, 'access_token', 'token');
  const tokenType = optionalString(answer, 'token_type');
  if (tokenType !== undefined && tokenType.toLowerCase() !== 'bearer') {
    throw new MalformedProviderResponseError('token_type is not Bearer');
  }
  const expiresIn = answer.expires_in;
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new MalformedProviderResponseError('expected a positive number at token.expires_in');
  }
  return { accessToken, expiresInSeconds: expiresIn };
}
