import { CallbackSignatureError, GateRequestError, GateTransportError } from './errors.ts';
import { isRecord, signGateRequest, verifyCallbackSignature } from './signature.ts';
import type {
  AuthRequest,
  CancelRequest,
  CaptureRequest,
  GateAccepted,
  PaymentStatusAnswer,
  PayoutRequest,
  RecurringCancelRequest,
  RecurringDebitRequest,
  RefundRequest,
  SaleRequest,
} from './types.ts';

export interface GateClientOptions {
  /** Gate base URL, e.g. `https://gate.example.com` (Gatehouse's `PUBLIC_GATE_URL`). */
  baseUrl: string;
  projectId: number;
  secretKey: string;
  /** Payment method path segment; `paypal` by default. */
  method?: string;
  /** Bound on each request; 30 s by default. */
  timeoutMs?: number;
  /** Checks the signature of status answers (on by default). */
  verifyStatusSignature?: boolean;
  /** A `fetch` to use instead of the global one (tests, proxies). */
  fetch?: typeof fetch;
}

type Action = 'sale' | 'auth' | 'capture' | 'cancel' | 'refund' | 'payout' | 'recurring' | 'recurring/cancel';

/**
 * A typed Gate client: signs each request with the project's secret key,
 * sends it, and returns the synchronous answer, or throws
 * `GateRequestError` (Gate refused: `code`, `message`, `requestId`) or
 * `GateTransportError` (no usable answer). Results arrive by callback; see
 * `parseCallback`.
 *
 * Every call carries your `payment_id`; repeating a call with the same one
 * answers `3041`, so a retry after a timeout is safe: check with `status`.
 *
 * @example
 * const gate = new GateClient({ baseUrl: 'https://gate.example.com', projectId: 1001, secretKey });
 * const accepted = await gate.sale({
 *   general: { payment_id: 'order-1' },
 *   payment: { amount: 1000, currency: 'USD', description: 'Order 1' },
 *   customer: { id: 'customer-1', ip_address: '192.0.2.10' },
 *   return_url: { success: 'https://shop.example/ok', decline: 'https://shop.example/no' },
 * });
 */
export class GateClient {
  private readonly baseUrl: string;
  private readonly method: string;
  private readonly timeoutMs: number;
  private readonly fetchImplementation: typeof fetch;

  constructor(private readonly options: GateClientOptions) {
    if (!Number.isSafeInteger(options.projectId) || options.projectId < 1) throw new TypeError('projectId must be a positive integer');
    if (typeof options.secretKey !== 'string' || options.secretKey === '') throw new TypeError('secretKey must be a non-empty string');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.method = encodeURIComponent(options.method ?? 'paypal');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchImplementation = options.fetch ?? globalThis.fetch;
  }

  /** One-step purchase: the customer approves at the wallet (`redirect_data` in the intermediate callback). */
  sale(request: SaleRequest): Promise<GateAccepted> {
    return this.action('sale', request);
  }

  /** Hold: the payment ends `awaiting capture`. */
  auth(request: AuthRequest): Promise<GateAccepted> {
    return this.action('auth', request);
  }

  /** Captures a hold. */
  capture(request: CaptureRequest): Promise<GateAccepted> {
    return this.action('capture', request);
  }

  /** Releases a hold. */
  cancel(request: CancelRequest): Promise<GateAccepted> {
    return this.action('cancel', request);
  }

  /** Full refund (no `payment.amount`) or partial refund. */
  refund(request: RefundRequest): Promise<GateAccepted> {
    return this.action('refund', request);
  }

  /** Payout to `account.number`. */
  payout(request: PayoutRequest): Promise<GateAccepted> {
    return this.action('payout', request);
  }

  /** Debit of a registered COF purchase (`recurring.id` from the registering payment's final callback). */
  recurring(request: RecurringDebitRequest): Promise<GateAccepted> {
    return this.action('recurring', request);
  }

  /** Cancels a COF purchase: no more debits. */
  recurringCancel(request: RecurringCancelRequest): Promise<GateAccepted> {
    return this.action('recurring/cancel', request);
  }

  /**
   * The payment and all its operations. The answer is signed like a
   * callback and checked unless `verifyStatusSignature: false`.
   *
   * @throws CallbackSignatureError when the answer's signature does not match
   */
  async status(paymentId: string): Promise<PaymentStatusAnswer> {
    const answer = (await this.post('/v2/payment/status', { general: { payment_id: paymentId } })) as PaymentStatusAnswer;
    if (this.options.verifyStatusSignature !== false && !verifyCallbackSignature(answer, this.options.secretKey)) {
      throw new CallbackSignatureError('the status answer is not signed with this project key');
    }
    return answer;
  }

  private async action(action: Action, request: { general: object }): Promise<GateAccepted> {
    return (await this.post(`/v2/payment/wallet/${this.method}/${action}`, request)) as GateAccepted;
  }

  private async post(path: string, request: { general: object }): Promise<unknown> {
    const body = signGateRequest({ ...request, general: { ...request.general, project_id: this.options.projectId } }, this.options.secretKey);
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImplementation(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new GateTransportError(`POST ${path} failed: ${(error as Error).message}`, { cause: error });
    }
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new GateTransportError(`POST ${path} answered ${response.status} with a body that is not JSON`);
    }
    if (isRecord(answer) && answer.status === 'error') {
      throw new GateRequestError(response.status, String(answer.code), String(answer.message ?? ''), typeof answer.request_id === 'string' ? answer.request_id : undefined);
    }
    if (!response.ok || !isRecord(answer)) throw new GateTransportError(`POST ${path} answered ${response.status} without a Gate answer`);
    return answer;
  }
}
