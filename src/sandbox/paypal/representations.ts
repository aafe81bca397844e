/**
 * Records -> PayPal's JSON. Pure functions: the field names, nesting, status
 * values and HATEOAS links are PayPal's, so that PayPal's own SDK and a
 * connector written from PayPal's documentation read them unchanged.
 */
import type { SandboxContext } from './context.ts';
import { vaultCustomerId } from './ids.ts';
import { moneyV1, moneyV2, paypalFeeMinor } from './money.ts';
import type {
  AuthorizationRecord,
  CaptureRecord,
  DisputeRecord,
  OrderRecord,
  PayerRecord,
  PayoutBatchRecord,
  PayoutItemRecord,
  RefundRecord,
  VaultTokenRecord,
} from './store.ts';

type Links = Array<{ href: string; rel: string; method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; encType?: string }>;
type Json = Record<string, unknown>;

/** PayPal prints times to the second: "2018-04-01T21:20:49Z". */
export function paypalTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Drops undefined and null fields, as PayPal omits absent ones. */
function compact<T extends Json>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null)) as T;
}

type Context = Pick<SandboxContext, 'baseUrl' | 'merchantId' | 'merchantEmail' | 'now'>;

const orderUrl = (context: Context, id: string) => `${context.baseUrl}/v2/checkout/orders/${id}`;
const captureUrl = (context: Context, id: string) => `${context.baseUrl}/v2/payments/captures/${id}`;
const authorizationUrl = (context: Context, id: string) => `${context.baseUrl}/v2/payments/authorizations/${id}`;
const refundUrl = (context: Context, id: string) => `${context.baseUrl}/v2/payments/refunds/${id}`;
const paymentTokenUrl = (context: Context, id: string) => `${context.baseUrl}/v3/vault/payment-tokens/${id}`;

/** The page a payer is sent to: `${publicBaseUrl}/checkoutnow?token=<order id>`. */
export const approvalPageUrl = (context: Pick<SandboxContext, 'baseUrl'>, orderId: string) =>
  `${context.baseUrl}/checkoutnow?token=${encodeURIComponent(orderId)}`;

const payee = (context: Context) => ({ email_address: context.merchantEmail, merchant_id: context.merchantId });

const sellerProtection = { status: 'ELIGIBLE', dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'] };

export function payerRepresentation(payer: PayerRecord): Json {
  return {
    name: { given_name: payer.givenName, surname: payer.surname },
    email_address: payer.emailAddress,
    payer_id: payer.payerId,
    address: { country_code: payer.countryCode },
  };
}

// ---------------------------------------------------------------------------
// Captures

function captureLinks(context: Context, capture: CaptureRecord): Links {
  const links: Links = [{ href: captureUrl(context, capture.id), rel: 'self', method: 'GET' }];
  if (capture.status === 'COMPLETED' || capture.status === 'PARTIALLY_REFUNDED') {
    links.push({ href: `${captureUrl(context, capture.id)}/refund`, rel: 'refund', method: 'POST' });
  }
  links.push(
    capture.authorizationId
      ? { href: authorizationUrl(context, capture.authorizationId), rel: 'up', method: 'GET' }
      : { href: orderUrl(context, capture.orderId), rel: 'up', method: 'GET' },
  );
  return links;
}

/** A capture as it appears inside an order's `purchase_units[].payments.captures[]`. */
export function embeddedCapture(context: Context, capture: CaptureRecord): Json {
  const feeMinor = paypalFeeMinor(capture.amountMinor);
  return compact({
    id: capture.id,
    status: capture.status,
    status_details: capture.statusReason ? { reason: capture.statusReason } : undefined,
    amount: moneyV2(capture.amountMinor, capture.currency),
    final_capture: capture.finalCapture,
    disbursement_mode: 'INSTANT',
    seller_protection: sellerProtection,
    seller_receivable_breakdown: {
      gross_amount: moneyV2(capture.amountMinor, capture.currency),
      paypal_fee: moneyV2(feeMinor, capture.currency),
      net_amount: moneyV2(capture.amountMinor - feeMinor, capture.currency),
    },
    invoice_id: capture.invoiceId,
    custom_id: capture.customId,
    links: captureLinks(context, capture),
    create_time: paypalTime(capture.createdAt),
    update_time: paypalTime(capture.updatedAt),
  });
}

/** `GET /v2/payments/captures/{id}`, and the resource of PAYMENT.CAPTURE.* webhooks. */
export function captureRepresentation(context: Context, capture: CaptureRecord): Json {
  return {
    ...embeddedCapture(context, capture),
    supplementary_data: {
      related_ids: compact({ order_id: capture.orderId, authorization_id: capture.authorizationId ?? undefined }),
    },
    payee: payee(context),
  };
}

// ---------------------------------------------------------------------------
// Authorizations

/** CREATED and PARTIALLY_CAPTURED authorizations read as EXPIRED once their expiration time has passed. */
export function authorizationStatusAt(authorization: AuthorizationRecord, now: Date): AuthorizationRecord['status'] | 'EXPIRED' {
  const open = authorization.status === 'CREATED' || authorization.status === 'PARTIALLY_CAPTURED';
  return open && now.getTime() >= authorization.expiresAt.getTime() ? 'EXPIRED' : authorization.status;
}

export function embeddedAuthorization(context: Context, authorization: AuthorizationRecord, order: Pick<OrderRecord, 'details'>): Json {
  const status = authorizationStatusAt(authorization, context.now());
  const links: Links = [{ href: authorizationUrl(context, authorization.id), rel: 'self', method: 'GET' }];
  if (status === 'CREATED' || status === 'PARTIALLY_CAPTURED') {
    links.push(
      { href: `${authorizationUrl(context, authorization.id)}/capture`, rel: 'capture', method: 'POST' },
      { href: `${authorizationUrl(context, authorization.id)}/void`, rel: 'void', method: 'POST' },
    );
  }
  links.push({ href: orderUrl(context, authorization.orderId), rel: 'up', method: 'GET' });
  return compact({
    id: authorization.id,
    status,
    amount: moneyV2(authorization.amountMinor, authorization.currency),
    invoice_id: order.details.purchaseUnit.invoice_id,
    custom_id: order.details.purchaseUnit.custom_id,
    seller_protection: sellerProtection,
    expiration_time: paypalTime(authorization.expiresAt),
    links,
    create_time: paypalTime(authorization.createdAt),
    update_time: paypalTime(authorization.updatedAt),
  });
}

/** `GET /v2/payments/authorizations/{id}`, and the resource of PAYMENT.AUTHORIZATION.* webhooks. */
export function authorizationRepresentation(context: Context, authorization: AuthorizationRecord, order: Pick<OrderRecord, 'details'>): Json {
  return {
    ...embeddedAuthorization(context, authorization, order),
    supplementary_data: { related_ids: { order_id: authorization.orderId } },
    payee: payee(context),
  };
}

// ---------------------------------------------------------------------------
// Refunds

export function embeddedRefund(context: Context, refund: RefundRecord): Json {
  return compact({
    id: refund.id,
    status: refund.status,
    amount: moneyV2(refund.amountMinor, refund.currency),
    invoice_id: refund.invoiceId,
    custom_id: refund.customId,
    note_to_payer: refund.noteToPayer,
    links: [
      { href: refundUrl(context, refund.id), rel: 'self', method: 'GET' },
      { href: captureUrl(context, refund.captureId), rel: 'up', method: 'GET' },
    ] satisfies Links,
    create_time: paypalTime(refund.createdAt),
    update_time: paypalTime(refund.updatedAt),
  });
}

/** `GET /v2/payments/refunds/{id}`, and the resource of PAYMENT.CAPTURE.REFUNDED. The capture is in `links[rel=up]`. */
export function refundRepresentation(context: Context, refund: RefundRecord, capture: CaptureRecord): Json {
  const feeMinor = paypalFeeMinor(refund.amountMinor);
  return {
    ...embeddedRefund(context, refund),
    seller_payable_breakdown: {
      gross_amount: moneyV2(refund.amountMinor, refund.currency),
      paypal_fee: moneyV2(feeMinor, refund.currency),
      net_amount: moneyV2(refund.amountMinor - feeMinor, refund.currency),
      total_refunded_amount: moneyV2(capture.refundedMinor, capture.currency),
    },
    payer: payee(context),
  };
}

// ---------------------------------------------------------------------------
// Orders

export interface OrderView {
  order: OrderRecord;
  captures: CaptureRecord[];
  authorizations: AuthorizationRecord[];
  refunds: RefundRecord[];
}

/** `minimal` for create, `payment` for capture/authorize with return=minimal, `full` otherwise. */
export type OrderShape = 'full' | 'minimal' | 'payment';

function orderLinks(context: Context, order: OrderRecord): Links {
  const links: Links = [{ href: orderUrl(context, order.id), rel: 'self', method: 'GET' }];
  const action = order.intent === 'CAPTURE' ? 'capture' : 'authorize';
  switch (order.status) {
    case 'CREATED':
    case 'PAYER_ACTION_REQUIRED':
      links.push({ href: approvalPageUrl(context, order.id), rel: order.details.approvalLinkRel ?? 'approve', method: 'GET' });
      if (order.details.approvalLinkRel !== 'payer-action') links.push({ href: `${orderUrl(context, order.id)}/${action}`, rel: action, method: 'POST' });
      return links;
    case 'APPROVED':
      links.push({ href: `${orderUrl(context, order.id)}/${action}`, rel: action, method: 'POST' });
      return links;
    case 'COMPLETED':
      return links;
    default:
      return assertNever(order.status);
  }
}

function paymentSource(context: Context, order: OrderRecord): Json | undefined {
  if (!order.details.paymentSourceRequested && !order.payer) return undefined;
  if (!order.payer) return { paypal: {} };
  const vault =
    order.vaultTokenId && order.details.vaultInstruction
      ? {
          id: order.vaultTokenId,
          status: 'VAULTED',
          customer: { id: vaultCustomerId(order.details.vaultInstruction.customerId, order.payer.payerId) },
          links: [{ href: paymentTokenUrl(context, order.vaultTokenId), rel: 'self', method: 'GET' }] satisfies Links,
        }
      : undefined;
  return {
    paypal: compact({
      email_address: order.payer.emailAddress,
      account_id: order.payer.payerId,
      account_status: 'VERIFIED',
      name: { given_name: order.payer.givenName, surname: order.payer.surname },
      address: { country_code: order.payer.countryCode },
      attributes: vault ? { vault } : undefined,
    }),
  };
}

function payments(context: Context, view: OrderView): Json | undefined {
  const { order, captures, authorizations, refunds } = view;
  if (captures.length === 0 && authorizations.length === 0) return undefined;
  return compact({
    authorizations: authorizations.length ? authorizations.map((authorization) => embeddedAuthorization(context, authorization, order)) : undefined,
    captures: captures.length ? captures.map((capture) => embeddedCapture(context, capture)) : undefined,
    refunds: refunds.length ? refunds.map((refund) => embeddedRefund(context, refund)) : undefined,
  });
}

export function orderRepresentation(context: Context, view: OrderView, shape: OrderShape): Json {
  const { order } = view;
  const referenceId = (order.details.purchaseUnit.reference_id as string | undefined) ?? 'default';
  if (shape === 'minimal') {
    return compact({ id: order.id, status: order.status, payment_source: paymentSource(context, order), links: orderLinks(context, order) });
  }
  if (shape === 'payment') {
    return compact({
      id: order.id,
      status: order.status,
      payment_source: paymentSource(context, order),
      purchase_units: [compact({ reference_id: referenceId, payments: payments(context, view) })],
      payer: order.payer ? payerRepresentation(order.payer) : undefined,
      links: orderLinks(context, order),
    });
  }
  const amount = compact({ ...moneyV2(order.amountMinor, order.currency), breakdown: order.details.amountBreakdown });
  return compact({
    id: order.id,
    intent: order.intent,
    status: order.status,
    payment_source: paymentSource(context, order),
    purchase_units: [compact({ ...order.details.purchaseUnit, reference_id: referenceId, amount, payee: payee(context), payments: payments(context, view) })],
    payer: order.payer ? payerRepresentation(order.payer) : undefined,
    create_time: paypalTime(order.createdAt),
    update_time: paypalTime(order.updatedAt),
    links: orderLinks(context, order),
  });
}

// ---------------------------------------------------------------------------
// Vault

export function paymentTokenRepresentation(context: Context, token: VaultTokenRecord): Json {
  return {
    id: token.id,
    customer: { id: token.customerId },
    payment_source: {
      paypal: {
        usage_type: token.usageType,
        customer_type: token.customerType,
        email_address: token.payer.emailAddress,
        payer_id: token.payer.payerId,
        name: { given_name: token.payer.givenName, surname: token.payer.surname },
        address: { country_code: token.payer.countryCode },
      },
    },
    links: [
      { href: paymentTokenUrl(context, token.id), rel: 'self', method: 'GET' },
      { href: paymentTokenUrl(context, token.id), rel: 'delete', method: 'DELETE' },
    ] satisfies Links,
  };
}

// ---------------------------------------------------------------------------
// Payouts

const payoutBatchUrl = (context: Context, id: string) => `${context.baseUrl}/v1/payments/payouts/${id}`;
const payoutItemUrl = (context: Context, id: string) => `${context.baseUrl}/v1/payments/payouts-item/${id}`;

export function payoutBatchCreatedRepresentation(context: Context, batch: PayoutBatchRecord): Json {
  return {
    batch_header: { payout_batch_id: batch.id, batch_status: batch.status, sender_batch_header: batch.senderBatchHeader },
    links: [{ href: payoutBatchUrl(context, batch.id), rel: 'self', method: 'GET', encType: 'application/json' }] satisfies Links,
  };
}

function payoutItemFields(context: Context, item: PayoutItemRecord): Json {
  return compact({
    payout_item_id: item.id,
    transaction_id: item.transactionId,
    activity_id: item.transactionId ? `${item.transactionId.slice(0, 8)}${item.id.slice(0, 9)}` : undefined,
    transaction_status: item.status,
    payout_item_fee: moneyV1(0n, item.currency),
    payout_batch_id: item.batchId,
    payout_item: compact({
      recipient_type: item.recipientType,
      amount: moneyV1(item.amountMinor, item.currency),
      note: item.note,
      receiver: item.receiver,
      sender_item_id: item.senderItemId,
      recipient_wallet: 'PAYPAL',
    }),
    time_processed: item.processedAt ? paypalTime(item.processedAt) : undefined,
    errors: item.error
      ? {
          name: item.error.name,
          message: item.error.message,
          information_link: `https://developer.paypal.com/docs/api/payments.payouts-batch/#errors`,
          details: [],
        }
      : undefined,
  });
}

/** `GET /v1/payments/payouts-item/{id}`, and the resource of PAYMENT.PAYOUTS-ITEM.* webhooks. */
export function payoutItemRepresentation(context: Context, item: PayoutItemRecord, batch: PayoutBatchRecord): Json {
  return {
    ...payoutItemFields(context, item),
    sender_batch_id: batch.senderBatchId ?? undefined,
    links: [
      { href: payoutItemUrl(context, item.id), rel: 'self', method: 'GET', encType: 'application/json' },
      { href: payoutBatchUrl(context, batch.id), rel: 'batch', method: 'GET', encType: 'application/json' },
    ] satisfies Links,
  };
}

export function payoutBatchRepresentation(context: Context, batch: PayoutBatchRecord, items: PayoutItemRecord[]): Json {
  const currencies = new Set(items.map((item) => item.currency));
  const singleCurrency = currencies.size === 1 ? items[0]!.currency : undefined;
  const totalMinor = items.reduce((sum, item) => sum + item.amountMinor, 0n);
  return {
    batch_header: compact({
      payout_batch_id: batch.id,
      batch_status: batch.status,
      time_created: paypalTime(batch.createdAt),
      time_completed: batch.completedAt ? paypalTime(batch.completedAt) : undefined,
      time_closed: batch.completedAt ? paypalTime(batch.completedAt) : undefined,
      sender_batch_header: batch.senderBatchHeader,
      funding_source: 'BALANCE',
      amount: singleCurrency ? moneyV1(totalMinor, singleCurrency) : undefined,
      fees: singleCurrency ? moneyV1(0n, singleCurrency) : undefined,
    }),
    items: items.map((item) => ({
      ...payoutItemFields(context, item),
      links: [{ href: payoutItemUrl(context, item.id), rel: 'item', method: 'GET', encType: 'application/json' }] satisfies Links,
    })),
    links: [{ href: payoutBatchUrl(context, batch.id), rel: 'self', method: 'GET', encType: 'application/json' }] satisfies Links,
  };
}

// ---------------------------------------------------------------------------
// Disputes

export function disputeRepresentation(context: Context, dispute: DisputeRecord, capture: CaptureRecord): Json {
  return {
    dispute_id: dispute.id,
    create_time: paypalTime(dispute.createdAt),
    update_time: paypalTime(dispute.updatedAt),
    disputed_transactions: [
      {
        seller_transaction_id: capture.id,
        seller: { merchant_id: context.merchantId, email: context.merchantEmail },
        create_time: paypalTime(capture.createdAt),
        transaction_status: 'COMPLETED',
        gross_amount: moneyV2(capture.amountMinor, capture.currency),
        custom: capture.customId ?? undefined,
        invoice_number: capture.invoiceId ?? undefined,
        seller_protection_eligible: true,
      },
    ],
    reason: dispute.reason,
    status: dispute.status,
    dispute_amount: moneyV2(dispute.amountMinor, dispute.currency),
    dispute_life_cycle_stage: dispute.lifeCycleStage,
    dispute_channel: 'INTERNAL',
    messages: [],
    links: [{ href: `${context.baseUrl}/v1/customer/disputes/${dispute.id}`, rel: 'self', method: 'GET' }] satisfies Links,
  };
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
