/**
 * Webhooks: events are written in the transaction of the change they report
 * (an outbox), then delivered by a dispatcher that signs each POST the way
 * PayPal does. Delivery is at least once, with a bounded number of attempts,
 * and survives a restart (undelivered rows are picked up again). A receiver
 * that is down never breaks the sandbox: failures are recorded, not thrown.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type DataLoader from 'dataloader';
import type pg from 'pg';
import { requestFetcher } from '../../http/outbound.ts';
import type { IntakePressure } from '../../jobs/intake-pressure.ts';
import { turnBatchLoader } from '../../store/turn-batches.ts';
import { selfSignedCertificatePem } from './certificate.ts';
import type { SandboxContext } from './context.ts';
import { newCertificateId, newWebhookEventId } from './ids.ts';
import { paypalTime } from './representations.ts';
import {
  claimDueDeliveries,
  findSigningKey,
  inTransaction,
  insertSigningKeyIfAbsent,
  insertWebhookEvent,
  recordDeliveryResults,
  type DeliveryResult,
  type Client,
  type Writer,
  type SigningKeyRecord,
} from './store.ts';
import { authAlgorithm, signWebhook, webhookSignatureIsValid } from './webhook-signature.ts';

export type WebhookEventType =
  | 'CHECKOUT.ORDER.APPROVED'
  | 'PAYMENT.AUTHORIZATION.CREATED'
  | 'PAYMENT.AUTHORIZATION.VOIDED'
  | 'PAYMENT.CAPTURE.COMPLETED'
  | 'PAYMENT.CAPTURE.PENDING'
  | 'PAYMENT.CAPTURE.DENIED'
  | 'PAYMENT.CAPTURE.REFUNDED'
  | 'PAYMENT.PAYOUTS-ITEM.SUCCEEDED'
  | 'PAYMENT.PAYOUTS-ITEM.FAILED'
  | 'PAYMENT.PAYOUTS-ITEM.UNCLAIMED'
  | 'CUSTOMER.DISPUTE.CREATED';

const resourceTypes: Record<WebhookEventType, { resourceType: string; resourceVersion: string }> = {
  'CHECKOUT.ORDER.APPROVED': { resourceType: 'checkout-order', resourceVersion: '2.0' },
  'PAYMENT.AUTHORIZATION.CREATED': { resourceType: 'authorization', resourceVersion: '2.0' },
  'PAYMENT.AUTHORIZATION.VOIDED': { resourceType: 'authorization', resourceVersion: '2.0' },
  'PAYMENT.CAPTURE.COMPLETED': { resourceType: 'capture', resourceVersion: '2.0' },
  'PAYMENT.CAPTURE.PENDING': { resourceType: 'capture', resourceVersion: '2.0' },
  'PAYMENT.CAPTURE.DENIED': { resourceType: 'capture', resourceVersion: '2.0' },
  'PAYMENT.CAPTURE.REFUNDED': { resourceType: 'refund', resourceVersion: '2.0' },
  'PAYMENT.PAYOUTS-ITEM.SUCCEEDED': { resourceType: 'payouts_item', resourceVersion: '1.0' },
  'PAYMENT.PAYOUTS-ITEM.FAILED': { resourceType: 'payouts_item', resourceVersion: '1.0' },
  'PAYMENT.PAYOUTS-ITEM.UNCLAIMED': { resourceType: 'payouts_item', resourceVersion: '1.0' },
  'CUSTOMER.DISPUTE.CREATED': { resourceType: 'dispute', resourceVersion: '1.0' },
};

export interface WebhookEventInput {
  eventType: WebhookEventType;
  /** The id the event is about (order, capture, refund, payout item, dispute). */
  resourceId: string;
  summary: string;
  resource: Record<string, unknown>;
  /** 2 in the duplicate-webhook scenario: the same event is delivered twice. */
  copies: 1 | 2;
}

/** Writes an event (and its deliveries, when a webhook URL is configured) in the caller's transaction. */
export async function recordWebhookEvent(
  client: Writer,
  context: Pick<SandboxContext, 'baseUrl' | 'now' | 'webhookUrl'>,
  input: WebhookEventInput,
): Promise<void> {
  const id = newWebhookEventId();
  const createdAt = context.now();
  const { resourceType, resourceVersion } = resourceTypes[input.eventType];
  const body = JSON.stringify({
    id,
    event_version: '1.0',
    create_time: paypalTime(createdAt),
    resource_type: resourceType,
    resource_version: resourceVersion,
    event_type: input.eventType,
    summary: input.summary,
    resource: input.resource,
    links: [{ href: `${context.baseUrl}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' }],
  });
  const deliver = context.webhookUrl() !== undefined;
  await insertWebhookEvent(
    client,
    { id, eventType: input.eventType, resourceType, resourceId: input.resourceId, body, createdAt },
    input.copies,
    deliver ? new Date() : null,
  );
}

// ---------------------------------------------------------------------------
// Signing key and certificate

const certificateValidityMs = 10 * 365 * 24 * 60 * 60 * 1000;

/** Loads the signing key, making it on first start. Two nodes starting together agree on one key. */
export async function loadOrCreateSigningKey(pool: pg.Pool): Promise<SigningKeyRecord> {
  const existing = await findSigningKey(pool);
  if (existing) return existing;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const issuedAt = new Date();
  const certificatePem = selfSignedCertificatePem({
    privateKeyPem,
    subjectCommonName: 'Gatehouse PayPal sandbox webhook signing',
    serialNumber: randomBytes(12),
    notBefore: new Date(issuedAt.getTime() - 24 * 60 * 60 * 1000),
    notAfter: new Date(issuedAt.getTime() + certificateValidityMs),
  });
  await insertSigningKeyIfAbsent(pool, { certificateId: newCertificateId(), privateKeyPem, certificatePem });
  const stored = await findSigningKey(pool);
  if (!stored) throw new Error('the webhook signing key was not stored');
  return stored;
}

export const certificatePath = (key: SigningKeyRecord) => `/v1/notifications/certs/${key.certificateId}`;

// ---------------------------------------------------------------------------
// Verification (POST /v1/notifications/verify-webhook-signature)

export interface VerificationRequest {
  authAlgorithm: string;
  certificateUrl: string;
  transmissionId: string;
  transmissionSignature: string;
  transmissionTime: string;
  webhookId: string;
  webhookEvent: unknown;
}

/**
 * PayPal checks the signature against the event it is given, serialized again;
 * our deliveries are `JSON.stringify` output, so parsing and re-serializing the
 * received body gives the same bytes, and any change to the event breaks it.
 */
export function verifyWebhookSignature(request: VerificationRequest, key: SigningKeyRecord, expectedWebhookId: string): boolean {
  if (request.authAlgorithm !== authAlgorithm) return false;
  if (request.webhookId !== expectedWebhookId) return false;
  let certificatePathname: string;
  try {
    certificatePathname = new URL(request.certificateUrl).pathname;
  } catch {
    return false;
  }
  if (!certificatePathname.endsWith(certificatePath(key))) return false;
  const fields = {
    transmissionId: request.transmissionId,
    transmissionTime: request.transmissionTime,
    webhookId: request.webhookId,
    rawBody: JSON.stringify(request.webhookEvent),
  };
  return webhookSignatureIsValid(fields, request.transmissionSignature, key.certificatePem);
}

// ---------------------------------------------------------------------------
// Delivery

/** Waits before the 2nd, 3rd and 4th attempt; after the 4th the delivery is given up. */
export const deliveryRetryDelaysMs = [1_000, 5_000, 25_000] as const;
const deliveryAttemptsMax = deliveryRetryDelaysMs.length + 1;
const deliveryTimeoutMs = 10_000;
/** The sandbox's own HTTP client (PayPal's webhooks come from PayPal's servers, not the merchant's). */
const webhookFetcher = requestFetcher();
/** A claimed delivery is retried by someone else if its result is not recorded within this lease. */
const deliveryLeaseMs = 60_000;
const deliveriesPerRound = 20;
const roundsPerRun = 10;

export interface DispatcherOptions {
  pool: pg.Pool;
  key: SigningKeyRecord;
  certificateUrl: string;
  webhookId: string;
  webhookUrl: () => string | undefined;
  now: () => Date;
  log: (message: string, error?: unknown) => void;
  /**
   * The node's intake pressure (src/jobs/intake-pressure.ts). The sandbox
   * stands for PayPal, whose webhooks cost PayPal's servers, not ours; in
   * this process its deliveries share the event loop with the merchants'
   * Gate requests, so while those crowd the node it delivers one at a time,
   * like the node's own background work.
   */
  pressure?: Pick<IntakePressure, 'slotsFor'>;
}

export class WebhookDispatcher {
  private readonly options: DispatcherOptions;
  private running: Promise<void> | undefined;
  private runAgain = false;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** The results of one event-loop turn's attempts, recorded in one statement. */
  private readonly results: DataLoader<DeliveryResult, void>;

  constructor(options: DispatcherOptions) {
    this.options = options;
    this.results = turnBatchLoader<DeliveryResult, void>(async (results) => {
      await recordDeliveryResults(options.pool, results);
      return results.map(() => undefined);
    });
  }

  private record(result: DeliveryResult): Promise<void> {
    return this.results.load(result);
  }

  /** Starts a delivery run now, or once more after the current one. Never throws. */
  deliverDue(): void {
    if (this.closed) return;
    if (this.running) {
      this.runAgain = true;
      return;
    }
    this.running = this.run()
      .catch((error) => this.options.log('paypal sandbox: webhook delivery run failed', error))
      .finally(() => {
        this.running = undefined;
        if (this.runAgain) {
          this.runAgain = false;
          this.deliverDue();
        }
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    for (let round = 0; round < roundsPerRun && !this.closed; round += 1) {
      const wallClock = new Date();
      const count = this.options.pressure?.slotsFor(deliveriesPerRound) ?? deliveriesPerRound;
      const claimed = await inTransaction(this.options.pool, (client) =>
        claimDueDeliveries(client, wallClock, new Date(wallClock.getTime() + deliveryLeaseMs), count),
      );
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((delivery) => this.attempt(delivery.deliveryId, delivery.attempts, delivery.body)));
    }
    // More were due than one run takes: continue in a fresh run rather than loop unbounded here.
    this.runAgain = true;
  }

  private async attempt(deliveryId: string, attempt: number, body: string): Promise<void> {
    const url = this.options.webhookUrl();
    if (url === undefined) {
      await this.record({ deliveryId, deliveredAt: null, nextAttemptAt: null, statusCode: null, error: 'no webhook URL configured' });
      return;
    }
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await webhookFetcher(url, {
        method: 'POST',
        headers: await this.headers(body),
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(deliveryTimeoutMs)]),
      });
      statusCode = response.status;
      if (statusCode < 200 || statusCode > 299) error = `HTTP ${response.status}`;
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
    }
    if (error === null) {
      await this.record({ deliveryId, deliveredAt: new Date(), nextAttemptAt: null, statusCode, error: null });
      return;
    }
    if (this.closed) return; // The lease expires and the next start retries it.
    const retryDelayMs = attempt < deliveryAttemptsMax ? deliveryRetryDelaysMs[attempt - 1] : undefined;
    const nextAttemptAt = retryDelayMs === undefined ? null : new Date(Date.now() + retryDelayMs);
    await this.record({ deliveryId, deliveredAt: null, nextAttemptAt, statusCode, error });
    if (retryDelayMs !== undefined) this.retryAfter(retryDelayMs);
    else this.options.log(`paypal sandbox: webhook delivery ${deliveryId} given up after ${attempt} attempts: ${error}`);
  }

  private retryAfter(delayMs: number): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.deliverDue();
    }, delayMs);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private async headers(body: string): Promise<Record<string, string>> {
    const transmissionId = randomUUID();
    const transmissionTime = paypalTime(this.options.now());
    const signature = await signWebhook(
      { transmissionId, transmissionTime, webhookId: this.options.webhookId, rawBody: body },
      this.options.key.privateKeyPem,
    );
    return {
      'Content-Type': 'application/json',
      'User-Agent': 'PayPal/AUHD-214.0-58254925',
      'PAYPAL-TRANSMISSION-ID': transmissionId,
      'PAYPAL-TRANSMISSION-TIME': transmissionTime,
      'PAYPAL-TRANSMISSION-SIG': signature,
      'PAYPAL-CERT-URL': this.options.certificateUrl,
      'PAYPAL-AUTH-ALGO': authAlgorithm,
    };
  }
}
