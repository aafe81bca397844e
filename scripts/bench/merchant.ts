import { createServer, type Server } from 'node:http';
import type http from 'node:http';
import { verifyCallback } from '../../src/signature/index.ts';
import { createAgent, Limiter, request } from './http-client.ts';

/**
 * The merchant and its customers, as the benchmark plays them: a callback
 * receiver that answers 200 at once and checks each callback's signature,
 * and customers who, when the intermediate callback brings the approval URL,
 * post the sandbox approval form (`action=approve`) and follow its redirect to
 * the platform's return endpoint, as a browser would. Every payment's
 * callbacks are counted, so lost and duplicated ones show.
 */
export interface TrackedPayment {
  sentAtMs: number;
  acceptedAtMs?: number;
  intermediateCallbacks: number;
  intermediateAtMs?: number;
  /** When the customer was back at the platform's return endpoint (the approval done). */
  returnedAtMs?: number;
  finalCallbacks: number;
  finalAtMs?: number;
  finalStatus?: string;
  approvalFailures: number;
}

export interface MerchantCounts {
  tracked: number;
  accepted: number;
  finished: number;
  duplicateFinals: number;
  duplicateIntermediates: number;
  unknownCallbacks: number;
  badSignatures: number;
  approvalFailures: number;
  burstReceived: number;
  burstDuplicates: number;
}

/** Customers approving at once; more wait their turn (a bound on sockets and memory). */
const customersAtOnceMax = 64;
const approvalAttemptsMax = 3;

export class Merchant {
  readonly payments = new Map<string, TrackedPayment>();
  /** Payment ids of burst callbacks received (see burst.ts), with their counts. */
  readonly burst = new Map<string, number>();
  private readonly secretsByProject = new Map<number, string>();
  private readonly waiters = new Map<string, () => void>();
  private readonly customerAgent: http.Agent = createAgent(customersAtOnceMax);
  private readonly customers = new Limiter(customersAtOnceMax);
  private unknownCallbacks = 0;
  private badSignatures = 0;
  private server: Server | undefined;
  private onBurstCallback: (() => void) | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        // Answer first: the platform's delivery latency must not include our bookkeeping.
        outgoing.statusCode = 200;
        outgoing.end('OK');
        this.receive(Buffer.concat(chunks).toString('utf8'), Date.now());
      });
    });
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/callbacks`;
  }

  async stop(): Promise<void> {
    this.customerAgent.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  knowProject(projectId: number, secretKey: string): void {
    this.secretsByProject.set(projectId, secretKey);
  }

  track(paymentId: string, sentAtMs: number): void {
    this.payments.set(paymentId, { sentAtMs, intermediateCallbacks: 0, finalCallbacks: 0, approvalFailures: 0 });
  }

  accepted(paymentId: string, atMs: number): void {
    const payment = this.payments.get(paymentId);
    if (payment) payment.acceptedAtMs = atMs;
  }

  /** Resolves when the payment's final callback has arrived, or after `timeoutMs` (then false). */
  waitForFinal(paymentId: string, timeoutMs: number): Promise<boolean> {
    if (this.payments.get(paymentId)?.finalAtMs !== undefined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(paymentId);
        resolve(false);
      }, timeoutMs);
      this.waiters.set(paymentId, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Called on every burst callback (burst.ts waits with it). */
  watchBurst(onCallback: (() => void) | undefined): void {
    this.onBurstCallback = onCallback;
  }

  counts(): MerchantCounts {
    let accepted = 0;
    let finished = 0;
    let duplicateFinals = 0;
    let duplicateIntermediates = 0;
    let approvalFailures = 0;
    for (const payment of this.payments.values()) {
      if (payment.acceptedAtMs !== undefined) accepted += 1;
      if (payment.finalCallbacks > 0) finished += 1;
      duplicateFinals += Math.max(0, payment.finalCallbacks - 1);
      duplicateIntermediates += Math.max(0, payment.intermediateCallbacks - 1);
      approvalFailures += payment.approvalFailures;
    }
    let burstDuplicates = 0;
    for (const count of this.burst.values()) burstDuplicates += count - 1;
    return {
      tracked: this.payments.size,
      accepted,
      finished,
      duplicateFinals,
      duplicateIntermediates,
      unknownCallbacks: this.unknownCallbacks,
      badSignatures: this.badSignatures,
      approvalFailures,
      burstReceived: this.burst.size,
      burstDuplicates,
    };
  }

  private receive(raw: string, atMs: number): void {
    let body: CallbackBody;
    try {
      body = JSON.parse(raw) as CallbackBody;
    } catch {
      this.unknownCallbacks += 1;
      return;
    }
    const secret = this.secretsByProject.get(body.project_id);
    if (!secret || !verifyCallback(body, secret)) this.badSignatures += 1;
    const paymentId = body.payment?.id ?? '';
    if (paymentId.startsWith('burst-callback-')) {
      this.burst.set(paymentId, (this.burst.get(paymentId) ?? 0) + 1);
      this.onBurstCallback?.();
      return;
    }
    const payment = this.payments.get(paymentId);
    if (!payment) {
      this.unknownCallbacks += 1;
      return;
    }
    const status = body.operation?.status;
    if (status === 'awaiting redirect result') {
      payment.intermediateCallbacks += 1;
      payment.intermediateAtMs ??= atMs;
      const approvalUrl = body.redirect_data?.url;
      if (payment.intermediateCallbacks === 1 && approvalUrl) void this.approve(payment, approvalUrl);
      return;
    }
    payment.finalCallbacks += 1;
    if (payment.finalCallbacks > 1) return;
    payment.finalAtMs = atMs;
    payment.finalStatus = body.payment?.status;
    const waiter = this.waiters.get(paymentId);
    this.waiters.delete(paymentId);
    waiter?.();
  }

  /** What a customer does on the approval page: press Approve, land on the platform's return URL. */
  private async approve(payment: TrackedPayment, approvalUrl: string): Promise<void> {
    await this.customers.run(async () => {
      for (let attempt = 1; attempt <= approvalAttemptsMax; attempt += 1) {
        try {
          const form = await request(this.customerAgent, 'POST', approvalUrl, { contentType: 'application/x-www-form-urlencoded', text: 'action=approve' });
          if (form.status !== 303 || !form.location) throw new Error(`approval form answered ${form.status}`);
          const back = await request(this.customerAgent, 'GET', form.location);
          if (back.status !== 303 && back.status !== 200) throw new Error(`return endpoint answered ${back.status}`);
          payment.returnedAtMs = Date.now();
          return;
        } catch {
          payment.approvalFailures += 1;
        }
      }
    });
  }
}

interface CallbackBody {
  project_id: number;
  payment?: { id?: string; status?: string };
  operation?: { status?: string };
  redirect_data?: { url?: string };
}
