/*
 * Plumbing of the PayPal connector: URLs, headers, the OAuth2 token cache,
 * timeouts, and the classification of HTTP answers. What the bodies mean is
 * decided in ./transformers.ts.
 *
 * HTTP classification, in one place:
 *   2xx              → parse the body (not JSON, or missing fields → ProviderUnavailableError malformed_response)
 *   400, 403, 422    → PayPal refused the request: a `decline` value with `declineReason`
 *                      (a body that is not PayPal's error shape → ProviderUnavailableError malformed_response)
 *   401              → drop the cached token, fetch a new one, retry once; 401 again → ProviderAuthenticationError
 *   404              → ProviderNotFoundError
 *   anything else    → ProviderUnavailableError http_status (408, 409, 429, 5xx, 3xx...)
 *   network failure  → ProviderUnavailableError network; timeout → ProviderUnavailableError timeout
 */
import { createHash, randomUUID } from 'node:crypto';
import { Secret } from '../../domain/secret.ts';
import { networkErrorCode, requestFetcher, type Fetcher } from '../../http/outbound.ts';
import {
  MalformedProviderResponseError,
  ProviderAuthenticationError,
  ProviderNotFoundError,
  ProviderUnavailableError,
  UnknownProviderStatusError,
  type PaypalErrorContext,
} from './errors.ts';
import {
  assertRequestId,
  assertResourceId,
  buildCaptureAuthorizationBody,
  buildCreateOrderBody,
  buildPayoutBody,
  buildRefundBody,
  buildVerifyWebhookBody,
  declineReasonFromErrorBody,
  declinedByError,
  toAccessToken,
  toAuthorizationResult,
  toAuthorizationResultFromOrder,
  toCaptureResult,
  toCaptureResultFromOrder,
  toOrderResult,
  toPayoutResultFromBatch,
  toPayoutResultFromItem,
  toRefundResult,
  toVoidResult,
  toWebhookVerification,
} from './transformers.ts';
import type {
  AuthorizationResult,
  CaptureAuthorizationInput,
  CaptureResult,
  CreateOrderInput,
  CreatePayoutInput,
  OrderActionInput,
  OrderResult,
  PaypalClientOptions,
  PaypalCredentials,
  PaypalDeclineReason,
  PaypalResult,
  PayoutResult,
  RefundCaptureInput,
  RefundResult,
  VerifyWebhookSignatureInput,
  VoidAuthorizationInput,
  VoidResult,
} from './types.ts';

const DEFAULT_TIMEOUT_MS = 10_000;

/** One HTTP client for every PaypalClient: undici keeps its connections alive per origin. */
const defaultFetcher = requestFetcher();

/** Renew a token this long before PayPal says it expires (at most half its lifetime). */
const TOKEN_RENEWAL_MARGIN_MS = 60_000;
const TOKEN_PATH = '/v1/oauth2/token';

/** The result of {@link PaypalClient.deletePaymentToken}. */
export type DeletePaymentTokenResult = PaypalResult<
  'success',
  {
    vaultId: string;
    /** True when PayPal had no such token (already deleted, e.g. by an earlier attempt). */
    alreadyAbsent: boolean;
  }
>;

type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** A PayPal answer the connector can interpret: a 2xx body, or a refusal (400/403/422). */
type Reply =
  | { kind: 'answer'; httpStatus: number; body: unknown; debugId?: string; context: PaypalErrorContext }
  | { kind: 'refused'; httpStatus: number; body: unknown; declineReason: PaypalDeclineReason; context: PaypalErrorContext };

interface CachedToken {
  accessToken: Secret;
  /** Epoch ms after which the token is renewed before use. */
  renewAtMs: number;
}

/**
 * A stateless, typed client of PayPal's REST API (Orders v2, Payments v2,
 * Payouts v1, Vault v3, webhook verification). One instance per set of
 * credentials; it keeps nothing but an OAuth2 access token in memory and never
 * touches the database.
 *
 * Every POST carries the caller's `requestId` as `PayPal-Request-Id`: retry an
 * operation whose outcome is unknown (a thrown ProviderUnavailableError) with
 * the SAME requestId and PayPal answers with the first result instead of
 * acting twice.
 *
 * @example
 * const paypal = new PaypalClient({
 *   baseUrl: 'http://127.0.0.1:8080/sandbox/paypal',
 *   clientId: 'sandbox-client',
 *   clientSecret: new Secret('sandbox-secret'),
 * }, { timeoutMs: 10_000 });
 * const order = await paypal.createOrder({
 *   requestId: `op-${operationId}`, intent: 'CAPTURE',
 *   amount: { currencyCode: 'EUR', value: '10.50' }, referenceId: paymentId,
 *   returnUrl: 'https://gate.example/paypal/return', cancelUrl: 'https://gate.example/paypal/cancel',
 * });
 * if (order.outcome === 'action_required') redirectCustomerTo(order.approveUrl);
 */
export class PaypalClient {
  readonly #baseUrl: string;
  readonly #clientId: string;
  readonly #clientSecret: Secret;
  readonly #timeoutMs: number;
  readonly #fetch: Fetcher;
  readonly #now: () => number;
  #token: CachedToken | undefined;
  #tokenRequest: Promise<Secret> | undefined;

  constructor(credentials: PaypalCredentials, options: PaypalClientOptions = {}) {
    const url = new URL(credentials.baseUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RangeError('baseUrl must be an http(s) URL');
    if (!credentials.clientId) throw new RangeError('clientId is required');
    if (!(credentials.clientSecret instanceof Secret)) throw new TypeError('clientSecret must be a Secret');
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError('timeoutMs must be a positive integer');
    this.#baseUrl = credentials.baseUrl.replace(/\/+$/, '');
    this.#clientId = credentials.clientId;
    this.#clientSecret = credentials.clientSecret;
    this.#timeoutMs = timeoutMs;
    this.#fetch = options.fetch ?? defaultFetcher;
    this.#now = options.now ?? Date.now;
  }

  /** Prints without credentials or tokens. */
  toJSON(): Record<string, unknown> {
    return { baseUrl: this.#baseUrl, clientId: this.#clientId, clientSecret: this.#clientSecret };
  }

  // -------------------------------------------------------------------------
  // Orders v2
  // -------------------------------------------------------------------------

  /**
   * Creates an order (`POST /v2/checkout/orders`). For a customer-present
   * payment the result is `action_required` with `approveUrl`, where the
   * customer approves and is sent back to `returnUrl?token=<orderId>&PayerID=...`;
   * then call {@link captureOrder} or {@link authorizeOrder}. With `vaultId` (a
   * saved wallet, merchant-initiated) the order completes at once and the
   * result is that of the capture or authorization inside (`success`,
   * `pending` or `decline`, ids in `capture` / `authorization`). Where the
   * provider answers such an order APPROVED instead of COMPLETED (the built-in
   * sandbox does), the client captures or authorizes it in the same call, with
   * the request id `<requestId>:complete`, so both behave the same.
   * Refusals (e.g. `PAYMENT_SOURCE_CANNOT_BE_USED` for a deleted token) are `decline`.
   *
   * @example
   * const order = await paypal.createOrder({
   *   requestId: 'op-1001-create', intent: 'CAPTURE',
   *   amount: { currencyCode: 'USD', value: '25.00' },
   *   referenceId: 'payment-42', description: 'Order #42', customId: 'project-7:payment-42',
   *   returnUrl: 'https://gate.example/paypal/return', cancelUrl: 'https://gate.example/paypal/cancel',
   *   payer: { email: 'buyer@example.com' },
   *   vault: { storeInVault: true },          // for a COF registration
   * });
   * // order.outcome === 'action_required', order.orderId, order.approveUrl
   *
   * const repeat = await paypal.createOrder({
   *   requestId: 'op-1002-create', intent: 'CAPTURE', amount: { currencyCode: 'USD', value: '9.99' },
   *   referenceId: 'payment-43', vaultId: savedVaultId,
   * });
   * // repeat.outcome === 'success', repeat.capture?.captureId
   */
  async createOrder(input: CreateOrderInput): Promise<OrderResult> {
    assertRequestId(input.requestId);
    const body = buildCreateOrderBody(input);
    const reply = await this.#call('POST', '/v2/checkout/orders', { requestId: input.requestId, body });
    if (reply.kind === 'refused') return declinedByError(reply.declineReason, reply.body);
    const order = this.#interpret(reply, () => toOrderResult(reply.body, reply.debugId));
    // PayPal completes a saved-wallet order at once; an implementation that
    // answers APPROVED instead (the built-in sandbox does) gets the capture or
    // authorize call here, so that callers see one behaviour. Its request id
    // is derived from the caller's, so a retry of createOrder repeats nothing.
    if (input.vaultId !== undefined && order.outcome === 'approved') {
      return this.#completeApprovedOrder(order.orderId, input.intent, derivedRequestId(input.requestId, 'complete'));
    }
    return order;
  }

  /** Capture or authorize of an approved order, answered as the whole order. */
  async #completeApprovedOrder(orderId: string, intent: 'CAPTURE' | 'AUTHORIZE', requestId: string): Promise<OrderResult> {
    const action = intent === 'CAPTURE' ? 'capture' : 'authorize';
    const path = `/v2/checkout/orders/${encodeURIComponent(orderId)}/${action}`;
    const reply = await this.#call('POST', path, { requestId, body: {} });
    if (reply.kind === 'refused') {
      const alreadyDone = intent === 'CAPTURE' ? 'ORDER_ALREADY_CAPTURED' : 'ORDER_ALREADY_AUTHORIZED';
      if (reply.declineReason.issue === alreadyDone) return this.getOrder(orderId);
      return { ...declinedByError(reply.declineReason, reply.body), orderId };
    }
    return this.#interpret(reply, () => toOrderResult(reply.body, reply.debugId));
  }

  /**
   * Reads an order (`GET /v2/checkout/orders/{id}`): after the customer came
   * back, to poll an order whose capture timed out, or to reconcile.
   *
   * @example
   * const order = await paypal.getOrder('5O190127TN364715T');
   * if (order.outcome === 'approved') await paypal.captureOrder({ orderId: order.orderId, requestId: 'op-1001-capture' });
   * if (order.providerStatus === 'COMPLETED') console.log(order.capture?.captureId, order.capture?.providerStatus);
   */
  async getOrder(orderId: string): Promise<OrderResult> {
    assertResourceId(orderId, 'orderId');
    const reply = await this.#call('GET', `/v2/checkout/orders/${encodeURIComponent(orderId)}`);
    if (reply.kind === 'refused') return declinedByError(reply.declineReason, reply.body);
    return this.#interpret(reply, () => toOrderResult(reply.body, reply.debugId));
  }

  /**
   * Captures an approved order of intent CAPTURE (`POST /v2/checkout/orders/{id}/capture`).
   * `success` when the money moved, `pending` when PayPal holds the capture
   * (it completes or fails later: webhook or {@link getCapture}), `decline`
   * with `declineReason.issue` such as `INSTRUMENT_DECLINED` or
   * `ORDER_NOT_APPROVED` (the customer has not approved yet).
   * If PayPal says the order was already captured (`ORDER_ALREADY_CAPTURED`,
   * e.g. a retry with a different requestId), the existing capture is read and
   * returned, so the money never moves twice and the caller still gets its id.
   *
   * @example
   * const capture = await paypal.captureOrder({ orderId, requestId: `op-${operationId}` });
   * switch (capture.outcome) {
   *   case 'success': markPaid(capture.captureId); break;
   *   case 'pending': waitForWebhook(capture.captureId); break;
   *   case 'decline': markDeclined(capture.declineReason.issue); break;
   * }
   */
  async captureOrder(input: OrderActionInput): Promise<CaptureResult> {
    assertRequestId(input.requestId);
    assertResourceId(input.orderId, 'orderId');
    const path = `/v2/checkout/orders/${encodeURIComponent(input.orderId)}/capture`;
    const reply = await this.#call('POST', path, { requestId: input.requestId, body: {} });
    if (reply.kind === 'refused') {
      if (reply.declineReason.issue === 'ORDER_ALREADY_CAPTURED') {
        const order = await this.getOrder(input.orderId);
        return this.#interpret(reply, () => toCaptureResultFromOrder(order.raw, order.debugId));
      }
      return { ...declinedByError(reply.declineReason, reply.body), orderId: input.orderId };
    }
    return this.#interpret(reply, () => toCaptureResultFromOrder(reply.body, reply.debugId));
  }

  /**
   * Places a hold on an approved order of intent AUTHORIZE
   * (`POST /v2/checkout/orders/{id}/authorize`). `success` means the hold is
   * placed (`providerStatus` CREATED); capture it with {@link captureAuthorization}
   * or release it with {@link voidAuthorization}. `ORDER_ALREADY_AUTHORIZED`
   * is resolved by reading the order, like {@link captureOrder}.
   *
   * @example
   * const hold = await paypal.authorizeOrder({ orderId, requestId: `op-${operationId}` });
   * if (hold.outcome === 'success') saveAuthorization(hold.authorizationId, hold.expirationTime);
   */
  async authorizeOrder(input: OrderActionInput): Promise<AuthorizationResult> {
    assertRequestId(input.requestId);
    assertResourceId(input.orderId, 'orderId');
    const path = `/v2/checkout/orders/${encodeURIComponent(input.orderId)}/authorize`;
    const reply = await this.#call('POST', path, { requestId: input.requestId, body: {} });
    if (reply.kind === 'refused') {
      if (reply.declineReason.issue === 'ORDER_ALREADY_AUTHORIZED') {
        const order = await this.getOrder(input.orderId);
        return this.#interpret(reply, () => toAuthorizationResultFromOrder(order.raw, order.debugId));
      }
      return { ...declinedByError(reply.declineReason, reply.body), orderId: input.orderId };
    }
    return this.#interpret(reply, () => toAuthorizationResultFromOrder(reply.body, reply.debugId));
  }

  // -------------------------------------------------------------------------
  // Payments v2: authorizations, captures, refunds
  // -------------------------------------------------------------------------

  /**
   * Captures a hold, fully or partly (`POST /v2/payments/authorizations/{id}/capture`).
   *
   * @example
   * const capture = await paypal.captureAuthorization({
   *   authorizationId, requestId: `op-${operationId}`,
   *   amount: { currencyCode: 'EUR', value: '7.00' }, finalCapture: true,
   * });
   * if (capture.outcome === 'decline') keepAwaitingCapture(capture.declineReason);
   */
  async captureAuthorization(input: CaptureAuthorizationInput): Promise<CaptureResult> {
    assertRequestId(input.requestId);
    assertResourceId(input.authorizationId, 'authorizationId');
    const body = buildCaptureAuthorizationBody(input);
    const path = `/v2/payments/authorizations/${encodeURIComponent(input.authorizationId)}/capture`;
    const reply = await this.#call('POST', path, { requestId: input.requestId, body });
    if (reply.kind === 'refused') {
      return { ...declinedByError(reply.declineReason, reply.body), authorizationId: input.authorizationId };
    }
    return this.#interpret(reply, () => {
      const result = toCaptureResult(reply.body, reply.debugId);
      return { ...result, authorizationId: result.authorizationId ?? input.authorizationId };
    });
  }

  /**
   * Releases a hold (`POST /v2/payments/authorizations/{id}/void`). `success`
   * once the authorization is VOIDED; `decline` when PayPal refuses (e.g. the
   * hold is already captured), which leaves the payment awaiting capture.
   *
   * @example
   * const released = await paypal.voidAuthorization({ authorizationId, requestId: `op-${operationId}` });
   * if (released.outcome === 'success') markCanceled();
   */
  async voidAuthorization(input: VoidAuthorizationInput): Promise<VoidResult> {
    assertRequestId(input.requestId);
    assertResourceId(input.authorizationId, 'authorizationId');
    const path = `/v2/payments/authorizations/${encodeURIComponent(input.authorizationId)}/void`;
    const reply = await this.#call('POST', path, { requestId: input.requestId, body: {} });
    if (reply.kind === 'refused') {
      return { ...declinedByError(reply.declineReason, reply.body), authorizationId: input.authorizationId };
    }
    return this.#interpret(reply, () => toVoidResult(reply.body, input.authorizationId, reply.debugId));
  }

  /**
   * Reads a hold (`GET /v2/payments/authorizations/{id}`). The outcome is
   * that of the hold: `success` while CREATED or (partly) captured.
   *
   * @example
   * const hold = await paypal.getAuthorization(authorizationId);
   * console.log(hold.providerStatus); // 'CREATED' | 'CAPTURED' | 'VOIDED' | ...
   */
  async getAuthorization(authorizationId: string): Promise<AuthorizationResult> {
    assertResourceId(authorizationId, 'authorizationId');
    const reply = await this.#call('GET', `/v2/payments/authorizations/${encodeURIComponent(authorizationId)}`);
    if (reply.kind === 'refused') return declinedByError(reply.declineReason, reply.body);
    return this.#interpret(reply, () => toAuthorizationResult(reply.body, reply.debugId));
  }

  /**
   * Reads a capture (`GET /v2/payments/captures/{id}`): to follow a pending
   * capture, or to reconcile after a timeout.
   *
   * @example
   * const capture = await paypal.getCapture(captureId);
   * if (capture.outcome === 'success') markPaid(capture.captureId);
   */
  async getCapture(captureId: string): Promise<CaptureResult> {
    assertResourceId(captureId, 'captureId');
    const reply = await this.#call('GET', `/v2/payments/captures/${encodeURIComponent(captureId)}`);
    if (reply.kind === 'refused') return declinedByError(reply.declineReason, reply.body);
    return this.#interpret(reply, () => toCaptureResult(reply.body, reply.debugId));
  }

  /**
   * Refunds a capture, fully (no amount) or partly (`POST /v2/payments/captures/{id}/refund`).
   * The decline variant carries `captureId` (the refunded capture) and a reason.
   *
   * @example
   * const refund = await paypal.refundCapture({
   *   captureId, requestId: `op-${operationId}`, amount: { currencyCode: 'USD', value: '5.00' }, note: 'Partial refund',
   * });
   * if (refund.outcome === 'success') recordRefund(refund.refundId);
   */
  async refundCapture(input: RefundCaptureInput): Promise<RefundResult> {
    assertRequestId(input.requestId);
    assertResourceId(input.captureId, 'captureId');
    const body = buildRefundBody(input);
    const path = `/v2/payments/captures/${encodeURIComponent(input.captureId)}/refund`;
    const reply = await this.#call('POST', path, { requestId: input.requestId, body });
    if (reply.kind === 'refused') return { ...declinedByError(reply.declineReason, reply.body), captureId: input.captureId };
    return this.#interpret(reply, () => {
      const result = toRefundResult(reply.body, reply.debugId);
      return { ...result, captureId: result.captureId ?? input.captureId };
    });
  }

  /**
   * Reads a refund (`GET /v2/payments/refunds/{id}`), to follow a pending one.
   *
   * @example
   * const refund = await paypal.getRefund(refundId);
   * console.log(refund.outcome, refund.providerStatus);
   */
  async getRefund(refundId: string): Promise<RefundResult> {
    assertResourceId(refundId, 'refundId');
    const reply = await this.#call('GET', `/v2/payments/refunds/${encodeURIComponent(refundId)}`);
    if (reply.kind === 'refused') return declinedByError(reply.declineReason, reply.body);
    return this.#interpret(reply, () => toRefundResult(reply.body, reply.debugId));
  }

  // -------------------------------------------------------------------------
  // Payouts v1
  // -------------------------------------------------------------------------

  /**
   * Sends money to a PayPal account: a batch of one item (`POST /v1/payments/payouts`).
   * PayPal answers at once with the batch (usually PENDING, no item yet), so
   * the result is normally `pending` with `batchId`; follow it with
   * {@link getPayoutBatch} (or the item, once known, with {@link getPayoutItem})
   * until the item is `success` or `decline`. Refusals of the whole request
   * (insufficient funds, a sender_batch_id used before) are `decline`.
   *
   * @example
   * const payout = await paypal.createPayout({
   *   requestId: `op-${operationId}`, senderBatchId: `payout-${paymentId}`, senderItemId: paymentId,
   *   amount: { currencyCode: 'GBP', value: '10.00' }, receiver: 'DHEV3UAE54T3G', note: 'Winnings',
   * });
   * if (payout.outcome === 'pending') schedulePoll(payout.batchId);
   */
  async createPayout(input: CreatePayoutInput): Promise<PayoutResult> {
    assertRequestId(input.requestId);
    const body = buildPayoutBody(input);
    const reply = await this.#call('POST', '/v1/payments/payouts', { requestId: input.requestId, body });
    if (reply.kind === 'refused') {
      return { ...declinedByError(reply.declineReason, reply.body), senderBatchId: input.senderBatchId, senderItemId: input.senderItemId };
    }
    return this.#interpret(reply, () => toPayoutResultFromBatch(reply.body, reply.debugId));
  }

  /**
   * Reads a payout batch with its item (`GET /v1/payments/payouts/{id}`).
   *
   * @example
   * const payout = await paypal.getPayoutBatch(batchId);
   * if (payout.outcome !== 'pending') finishPayout(payout.outcome, payout.payoutItemId, payout.declineReason);
   */
  async getPayoutBatch(batchId: string): Promise<PayoutResult> {
    assertResourceId(batchId, 'batchId');
    const reply = await this.#call('GET', `/v1/payments/payouts/${encodeURIComponent(batchId)}`);
    if (reply.kind === 'refused') return declinedByError(reply.declineReason, reply.body);
    return this.#interpret(reply, () => toPayoutResultFromBatch(reply.body, reply.debugId));
  }

  /**
   * Reads one payout item (`GET /v1/payments/payouts-item/{id}`). The result
   * has no `batchStatus` (PayPal's item answer does not carry it).
   *
   * @example
   * const item = await paypal.getPayoutItem(payoutItemId);
   * console.log(item.itemStatus, item.transactionId);
   */
  async getPayoutItem(payoutItemId: string): Promise<PayoutResult> {
    assertResourceId(payoutItemId, 'payoutItemId');
    const reply = await this.#call('GET', `/v1/payments/payouts-item/${encodeURIComponent(payoutItemId)}`);
    if (reply.kind === 'refused') return declinedByError(reply.declineReason, reply.body);
    return this.#interpret(reply, () => toPayoutResultFromItem(reply.body, reply.debugId));
  }

  // -------------------------------------------------------------------------
  // Vault v3
  // -------------------------------------------------------------------------

  /**
   * Deletes a saved PayPal wallet (`DELETE /v3/vault/payment-tokens/{id}`),
   * e.g. for a `recurring/cancel`. Idempotent: a token PayPal does not know
   * (404) counts as deleted, with `alreadyAbsent: true`.
   *
   * @example
   * const deleted = await paypal.deletePaymentToken(vaultId);
   * if (deleted.outcome === 'success') markRecurringCanceled();
   */
  async deletePaymentToken(vaultId: string): Promise<DeletePaymentTokenResult> {
    assertResourceId(vaultId, 'vaultId');
    let reply: Reply;
    try {
      reply = await this.#call('DELETE', `/v3/vault/payment-tokens/${encodeURIComponent(vaultId)}`);
    } catch (error) {
      if (error instanceof ProviderNotFoundError) {
        return { outcome: 'success', vaultId, alreadyAbsent: true, raw: null, ...(error.debugId ? { debugId: error.debugId } : {}) };
      }
      throw error;
    }
    if (reply.kind === 'refused') return { ...declinedByError(reply.declineReason, reply.body), vaultId };
    return { outcome: 'success', vaultId, alreadyAbsent: false, raw: reply.body ?? null, ...(reply.debugId ? { debugId: reply.debugId } : {}) };
  }

  // -------------------------------------------------------------------------
  // Webhooks
  // -------------------------------------------------------------------------

  /**
   * Asks PayPal whether a webhook delivery is genuine
   * (`POST /v1/notifications/verify-webhook-signature`). True only when PayPal
   * answers `SUCCESS`. False, without a call, when a `paypal-transmission-*`
   * header is missing or the event is not a JSON object; false when PayPal
   * refuses the input (400/422). Throws ProviderUnavailableError when PayPal
   * cannot answer: then reply non-2xx to the delivery so that PayPal retries it.
   * Each call sends a fresh PayPal-Request-Id, so a cached verdict can never
   * be replayed for a tampered copy of an event.
   *
   * @example
   * app.post('/webhooks/paypal', { config: { rawBody: true } }, async (request, reply) => {
   *   const genuine = await paypal.verifyWebhookSignature({
   *     webhookId: settings.paypalWebhookId, headers: request.headers, event: request.rawBody,
   *   });
   *   if (!genuine) return reply.code(400).send();
   *   await enqueueWebhook(JSON.parse(request.rawBody));
   *   return reply.code(200).send();
   * });
   */
  async verifyWebhookSignature(input: VerifyWebhookSignatureInput): Promise<boolean> {
    if (!input.webhookId) throw new RangeError('webhookId is required');
    const bodyText = buildVerifyWebhookBody(input);
    if (bodyText === undefined) return false;
    const reply = await this.#call('POST', '/v1/notifications/verify-webhook-signature', {
      requestId: randomUUID(),
      bodyText,
    });
    if (reply.kind === 'refused') return false;
    return this.#interpret(reply, () => toWebhookVerification(reply.body));
  }

  // -------------------------------------------------------------------------
  // Plumbing
  // -------------------------------------------------------------------------

  /** Runs a transformer, giving its errors the request's context. */
  #interpret<T>(reply: Reply, transform: () => T): T {
    try {
      return transform();
    } catch (error) {
      if (error instanceof MalformedProviderResponseError) {
        throw new ProviderUnavailableError('malformed_response', reply.context);
      }
      if (error instanceof UnknownProviderStatusError) throw error.withContext(reply.context);
      throw error;
    }
  }

  /**
   * One API call with the bearer token; a 401 renews the token and repeats the
   * call once (a 401 means PayPal did not process it, and the requestId is the
   * same, so the repeat is safe).
   */
  async #call(
    method: HttpMethod,
    path: string,
    request: { requestId?: string; body?: unknown; bodyText?: string } = {},
  ): Promise<Reply> {
    const bodyText = request.bodyText ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
    const maximumAttempts = 2;
    for (let attempt = 1; attempt <= maximumAttempts; attempt += 1) {
      const accessToken = await this.#accessToken();
      const headers: Record<string, string> = {
        Authorization: `Bearer ${accessToken.reveal()}`,
        Accept: 'application/json',
      };
      if (bodyText !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers.Prefer = 'return=representation';
      }
      if (request.requestId !== undefined) headers['PayPal-Request-Id'] = request.requestId;

      const response = await this.#exchange(method, path, headers, bodyText);
      const context: PaypalErrorContext = { method, path, httpStatus: response.httpStatus, debugId: response.debugId };

      if (response.httpStatus === 401) {
        this.#forgetToken(accessToken);
        if (attempt < maximumAttempts) continue;
        throw new ProviderAuthenticationError(context);
      }
      if (response.httpStatus >= 200 && response.httpStatus < 300) {
        const body = parseJsonBody(response.text, context);
        const debugId = context.debugId ?? bodyDebugId(body);
        return { kind: 'answer', httpStatus: response.httpStatus, body, debugId, context: { ...context, debugId } };
      }
      if (response.httpStatus === 404) {
        throw new ProviderNotFoundError({ ...context, debugId: context.debugId ?? bodyDebugId(tryParseJson(response.text)) });
      }
      if (response.httpStatus === 400 || response.httpStatus === 403 || response.httpStatus === 422) {
        const body = parseJsonBody(response.text, context);
        const declineReason = declineReasonFromErrorBody(body, response.httpStatus, response.debugId);
        if (!declineReason) throw new ProviderUnavailableError('malformed_response', context);
        return { kind: 'refused', httpStatus: response.httpStatus, body, declineReason, context: { ...context, debugId: declineReason.debugId } };
      }
      throw new ProviderUnavailableError('http_status', { ...context, debugId: context.debugId ?? bodyDebugId(tryParseJson(response.text)) });
    }
    throw new Error('unreachable: the attempt loop always returns or throws');
  }

  /** A cached token, or a new one; concurrent callers share one token request. */
  async #accessToken(): Promise<Secret> {
    if (this.#token && this.#now() < this.#token.renewAtMs) return this.#token.accessToken;
    if (!this.#tokenRequest) {
      this.#tokenRequest = this.#requestToken().finally(() => {
        this.#tokenRequest = undefined;
      });
    }
    return this.#tokenRequest;
  }

  /** Drops the cached token if it is the one PayPal rejected (another call may have renewed it already). */
  #forgetToken(rejected: Secret): void {
    if (this.#token?.accessToken === rejected) this.#token = undefined;
  }

  /** OAuth2 client credentials grant: `POST /v1/oauth2/token` with HTTP Basic authentication. */
  async #requestToken(): Promise<Secret> {
    const basic = Buffer.from(`${this.#clientId}:${this.#clientSecret.reveal()}`).toString('base64');
    const requestedAtMs = this.#now();
    const response = await this.#exchange(
      'POST',
      TOKEN_PATH,
      {
        Authorization: `Basic ${basic}`,
        Accept: 'application/json',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      'grant_type=client_credentials',
    );
    const context: PaypalErrorContext = { method: 'POST', path: TOKEN_PATH, httpStatus: response.httpStatus, debugId: response.debugId };
    if (response.httpStatus === 400 || response.httpStatus === 401 || response.httpStatus === 403) {
      throw new ProviderAuthenticationError(context);
    }
    if (response.httpStatus < 200 || response.httpStatus >= 300) throw new ProviderUnavailableError('http_status', context);
    let token: { accessToken: string; expiresInSeconds: number };
    try {
      token = toAccessToken(parseJsonBody(response.text, context));
    } catch (error) {
      if (error instanceof MalformedProviderResponseError) throw new ProviderUnavailableError('malformed_response', context);
      throw error;
    }
    const lifetimeMs = token.expiresInSeconds * 1000;
    const accessToken = new Secret(token.accessToken);
    this.#token = { accessToken, renewAtMs: requestedAtMs + lifetimeMs - Math.min(TOKEN_RENEWAL_MARGIN_MS, lifetimeMs / 2) };
    return accessToken;
  }

  /**
   * One HTTP exchange bounded by the timeout, body included. Failures become
   * ProviderUnavailableError carrying only the method, the path and the
   * network error code: never the fetch error itself, whose properties could
   * hold request details.
   */
  async #exchange(
    method: HttpMethod,
    path: string,
    headers: Record<string, string>,
    bodyText: string | undefined,
  ): Promise<{ httpStatus: number; text: string; debugId?: string }> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      const response = await this.#fetch(`${this.#baseUrl}${path}`, {
        method,
        headers,
        body: bodyText,
        signal,
        redirect: 'manual',
      });
      const text = await response.text();
      const debugId = response.headers.get('paypal-debug-id') ?? undefined;
      return { httpStatus: response.status, text, ...(debugId ? { debugId } : {}) };
    } catch (error) {
      if (signal.aborted) throw new ProviderUnavailableError('timeout', { method, path });
      throw new ProviderUnavailableError('network', { method, path }, networkErrorCode(error));
    }
  }
}

/**
 * A request id for a follow-up call that one caller operation makes: the
 * caller's id plus a suffix, or a hash of both when that would exceed PayPal's
 * 108 characters. Deterministic, so retries of the operation reuse it.
 */
function derivedRequestId(requestId: string, suffix: string): string {
  const derived = `${requestId}:${suffix}`;
  if (derived.length <= 108) return derived;
  return `${createHash('sha256').update(derived).digest('hex')}:${suffix}`;
}

function tryParseJson(text: string): unknown {
  try {
    return text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An empty body is `undefined` (204); anything else must be JSON. */
function parseJsonBody(text: string, context: PaypalErrorContext): unknown {
  if (text.trim().length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderUnavailableError('malformed_response', context);
  }
}

function bodyDebugId(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const debugId = (body as Record<string, unknown>).debug_id;
  return typeof debugId === 'string' && debugId.length > 0 && debugId.length <= 64 ? debugId : undefined;
}
