import type pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createPaypalMethod } from '../../src/methods/paypal.ts';
import { CredentialCipher } from '../../src/security/credentials.ts';
import type { PlatformContext } from '../../src/processing/context.ts';
import { enqueueCallback } from '../../src/processing/outbox.ts';
import { withTransaction } from '../../src/store/db.ts';
import { findPayment, listOperations } from '../../src/store/payments.ts';
import type { Project } from '../../src/store/projects.ts';
import type { Merchant } from './merchant.ts';

/**
 * Callback burst: `count` callbacks queued at once, the way a platform has
 * them after a merchant's endpoint comes back from an outage, then timed
 * until the merchant has received them all. They are written by the
 * platform's own outbox code (`enqueueCallback`: the callbacks row, in a
 * transaction), from this process; the platform's callback dispatcher, in
 * the platform process, claims and delivers them.
 *
 * They all report one real, finished payment of a project of their own, each
 * with its own `payment.id` in the body (`burst-callback-<n>`), so the merchant can
 * tell them apart and count duplicates.
 */
export interface BurstResult {
  count: number;
  enqueueSeconds: number;
  /** From the first enqueue to the last callback received. */
  deliverSeconds: number;
  delivered: number;
  perSecond: number;
  timedOut: boolean;
}

const callbacksPerTransaction = 100;
const transactionsAtOnce = 4;

export async function runCallbackBurst(
  pool: pg.Pool,
  project: Project,
  sourcePaymentId: string,
  merchant: Merchant,
  options: { count: number; timeoutMs: number },
): Promise<BurstResult> {
  const payment = await findPayment(pool, project.id, sourcePaymentId);
  if (!payment) throw new Error(`burst source payment ${sourcePaymentId} not found`);
  const operations = await listOperations(pool, payment.ref);
  const operation = operations[operations.length - 1];
  // No request id to carry, and no delivery here to wake: the platform's callback dispatcher claims them at its next poll.
  const queue = { carry: (_name: string, data: object) => data };
  const paypal = createPaypalMethod({ sandboxApiUrl: 'http://127.0.0.1:9', sandboxClientId: 'unused', sandboxClientSecret: 'unused', liveApiUrl: 'http://127.0.0.1:9', timeoutMs: 1, credentials: new CredentialCipher({}) });
  // enqueueCallback reads the methods (display name, provider number).
  const context = { pool, queue, callbacks: { wake: () => undefined, handOffLeaseSeconds: () => undefined, handOff: () => undefined }, methods: new Map([['paypal', paypal]]), config: loadConfig(), log: pino({ level: 'silent' }), now: () => new Date() } as unknown as PlatformContext;

  let lastReceivedAtMs = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  merchant.watchBurst(() => {
    lastReceivedAtMs = Date.now();
    if (merchant.burst.size >= options.count) resolveAll();
  });

  const startedAtMs = Date.now();
  let nextIndex = 0;
  const lane = async () => {
    while (nextIndex < options.count) {
      const first = nextIndex;
      const end = Math.min(options.count, first + callbacksPerTransaction);
      nextIndex = end;
      await withTransaction(pool, async (tx) => {
        for (let index = first; index < end; index += 1) {
          await enqueueCallback(context, tx, project, 'final', { payment: { ...payment, paymentId: `burst-callback-${index}` }, operation });
        }
      });
    }
  };
  await Promise.all(Array.from({ length: transactionsAtOnce }, lane));
  const enqueueSeconds = (Date.now() - startedAtMs) / 1000;

  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    all.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), options.timeoutMs))),
  ]);
  clearTimeout(timer);
  merchant.watchBurst(undefined);
  const endMs = timedOut ? Date.now() : lastReceivedAtMs;
  const deliverSeconds = (endMs - startedAtMs) / 1000;
  return {
    count: options.count,
    enqueueSeconds,
    deliverSeconds,
    delivered: merchant.burst.size,
    perSecond: merchant.burst.size / deliverSeconds,
    timedOut,
  };
}
