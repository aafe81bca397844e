import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { signGateRequest } from '../../src/signature/index.ts';
import { createAgent, request } from './http-client.ts';
import type { Merchant } from './merchant.ts';
import { percentile } from './statistics.ts';

/**
 * Signed Gate `sale` requests from N concurrent clients, each sending its next
 * request as soon as the previous one is answered (a closed loop: the rate
 * measured is what the platform sustains, not what we chose to offer).
 */
export interface GateTarget {
  url: string;
  projectId: number;
  secretKey: string;
}

export interface AcceptResult {
  clients: number;
  sent: number;
  accepted: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Amount 10.00 USD: its last two digits (00) pick the sandbox's plain "approved" scenario. */
const amountMinor = 1000;

export function saleBody(target: GateTarget, paymentId: string): string {
  const body = {
    general: { project_id: target.projectId, payment_id: paymentId },
    payment: { amount: amountMinor, currency: 'USD', description: 'Gatehouse bench purchase' },
    customer: { id: 'bench-customer', ip_address: '192.0.2.10', email: 'buyer@example.com' },
    return_url: { success: 'https://merchant.example/success', decline: 'https://merchant.example/decline' },
  };
  return JSON.stringify(signGateRequest(body, target.secretKey));
}

async function sendSale(agent: http.Agent, target: GateTarget, merchant: Merchant, paymentId: string, body: string): Promise<{ ok: boolean; latencyMs: number }> {
  const startedAt = performance.now();
  merchant.track(paymentId, Date.now());
  try {
    const response = await request(agent, 'POST', `${target.url}/v2/payment/wallet/paypal/sale`, { contentType: 'application/json', text: body });
    const latencyMs = performance.now() - startedAt;
    const ok = response.status === 200 && (JSON.parse(response.body) as { status?: string }).status === 'success';
    if (ok) merchant.accepted(paymentId, Date.now());
    return { ok, latencyMs };
  } catch {
    return { ok: false, latencyMs: performance.now() - startedAt };
  }
}

/** One concurrency level: at most `requestsMax` requests and `durationMs`, whichever ends first. */
export async function runAcceptLevel(
  target: GateTarget,
  merchant: Merchant,
  options: { clients: number; requestsMax: number; durationMs: number; paymentIdPrefix: string },
): Promise<AcceptResult> {
  // Signed before the clock starts: signing is the merchant's cost, not the platform's.
  const bodies = Array.from({ length: options.requestsMax }, (_, index) => {
    const paymentId = `${options.paymentIdPrefix}-${index}`;
    return { paymentId, body: saleBody(target, paymentId) };
  });
  const agent = createAgent(options.clients);
  const latenciesMs: number[] = [];
  let next = 0;
  let accepted = 0;
  let errors = 0;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;
  const client = async () => {
    while (next < bodies.length && performance.now() < deadline) {
      const { paymentId, body } = bodies[next++];
      const result = await sendSale(agent, target, merchant, paymentId, body);
      latenciesMs.push(result.latencyMs);
      if (result.ok) accepted += 1;
      else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  const seconds = (performance.now() - startedAt) / 1000;
  agent.destroy();
  return {
    clients: options.clients,
    sent: latenciesMs.length,
    accepted,
    errors,
    seconds,
    perSecond: accepted / seconds,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    maxMs: percentile(latenciesMs, 100),
  };
}

export interface CompleteResult {
  inFlight: number;
  started: number;
  /** Final callbacks that arrived inside the measuring window. */
  completedInWindow: number;
  windowSeconds: number;
  perSecond: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  timedOut: number;
  errors: number;
}

/**
 * End to end: `inFlight` customers each start a sale, wait for its final
 * callback (the merchant plays the customer's approval in between), then
 * start the next. Counted: final callbacks received after the warm-up.
 */
export async function runCompletePhase(
  target: GateTarget,
  merchant: Merchant,
  options: { inFlight: number; durationMs: number; warmupMs: number; paymentTimeoutMs: number; paymentIdPrefix: string },
): Promise<CompleteResult> {
  const agent = createAgent(options.inFlight);
  const startedAt = Date.now();
  const windowStart = startedAt + options.warmupMs;
  const deadline = startedAt + options.durationMs;
  const lagsMs: number[] = [];
  let started = 0;
  let timedOut = 0;
  let errors = 0;
  const customer = async () => {
    while (Date.now() < deadline) {
      const paymentId = `${options.paymentIdPrefix}-${started++}`;
      const sentAtMs = Date.now();
      const result = await sendSale(agent, target, merchant, paymentId, saleBody(target, paymentId));
      if (!result.ok) {
        errors += 1;
        await sleep(10);
        continue;
      }
      const finished = await merchant.waitForFinal(paymentId, options.paymentTimeoutMs);
      if (!finished) {
        timedOut += 1;
        continue;
      }
      const finalAtMs = merchant.payments.get(paymentId)!.finalAtMs!;
      if (finalAtMs >= windowStart && finalAtMs <= deadline) lagsMs.push(finalAtMs - sentAtMs);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, customer));
  agent.destroy();
  const windowSeconds = (deadline - windowStart) / 1000;
  return {
    inFlight: options.inFlight,
    started,
    completedInWindow: lagsMs.length,
    windowSeconds,
    perSecond: lagsMs.length / windowSeconds,
    lagP50Ms: percentile(lagsMs, 50),
    lagP99Ms: percentile(lagsMs, 99),
    lagMaxMs: percentile(lagsMs, 100),
    timedOut,
    errors,
  };
}

/** One sale, start to final callback (bounded); true when the final callback arrived. */
export async function runOnePayment(target: GateTarget, merchant: Merchant, paymentId: string, timeoutMs: number): Promise<boolean> {
  const agent = createAgent(1);
  try {
    const result = await sendSale(agent, target, merchant, paymentId, saleBody(target, paymentId));
    return result.ok && (await merchant.waitForFinal(paymentId, timeoutMs));
  } finally {
    agent.destroy();
  }
}
