import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallbackDispatcher, claimDueCallbacks } from '../src/callbacks/dispatcher.ts';
import type { PlatformContext } from '../src/processing/context.ts';
import { createPool, withTransaction } from '../src/store/db.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * Callbacks are claimed for delivery from their own table (no queue job per
 * callback). These tests hold the two promises that replace the queue's:
 * nodes claiming together never deliver one callback twice, and a claim whose
 * node died runs out, after which the callback is delivered.
 */
let gh: TestPlatform;

before(async () => {
  gh = await startTestPlatform();
});

after(async () => {
  await gh.stop();
});

/** Writes `count` pending callbacks of one real payment, each with its own `payment.id` in the body, in the caller's transaction. */
async function insertCallbacks(db: { query: PlatformContext['pool']['query'] }, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
  const { rows } = await db.query<{ id: string }>(
    `WITH p AS (INSERT INTO payments (project_id, payment_id, type, method, status, currency, amount_minor)
                VALUES ($1, $2, 'purchase', 'paypal', 'success', 'USD', 100) RETURNING id)
     INSERT INTO callbacks (project_id, payment_ref, kind, url, body, next_attempt_at)
     SELECT $1, p.id, 'final', $3, json_build_object('payment', json_build_object('id', body_id))::text, now()
       FROM p, unnest($4::text[]) AS body_id
     RETURNING id::text`,
    [String(gh.project.id), `${prefix}-source`, gh.receiver.url, ids],
  );
  assert.equal(rows.length, count);
  return ids;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(50);
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

test('two nodes claiming the same due callbacks deliver each one exactly once', async () => {
  const context = gh.platform.context;
  const secondPool = createPool(gh.platform.databaseUrl, 4);
  let secondNodeAttempts = 0;
  // A second node's dispatcher: its own pool and slots, the same database.
  const secondNode = new CallbackDispatcher(
    { ...context, pool: secondPool, onCallbackAttempt: () => (secondNodeAttempts += 1) },
    { slots: 8, pollingIntervalMs: 100, leaseSeconds: 30 },
  );
  secondNode.start();
  try {
    const ids = await withTransaction(context.pool, (tx) => insertCallbacks(tx, 'claims-race', 300));
    context.callbacks.wake();
    await waitUntil(() => ids.every((id) => gh.callbacksFor(id).length > 0), 20_000, 'all 300 callbacks received');
    // Give a duplicate delivery, if there were one, the time to arrive.
    await sleep(500);
    const received = ids.map((id) => gh.callbacksFor(id).length);
    assert.deepEqual(received.filter((times) => times !== 1), [], 'each callback received once');
    const { rows } = await context.pool.query<{ status: string; attempts: number; recorded: number }>(
      `SELECT c.status, c.attempts, (SELECT count(*)::int FROM callback_attempts a WHERE a.callback_id = c.id) AS recorded
         FROM callbacks c JOIN payments p ON p.id = c.payment_ref WHERE p.payment_id = 'claims-race-source'`,
    );
    assert.equal(rows.length, 300);
    assert.ok(rows.every((row) => row.status === 'delivered' && row.attempts === 1 && row.recorded === 1), 'one attempt each, recorded once');
    assert.ok(secondNodeAttempts > 0 && secondNodeAttempts < 300, `both nodes delivered some (the second node: ${secondNodeAttempts})`);
  } finally {
    await secondNode.stop(5_000);
    await secondPool.end();
  }
});

test('a claim whose node died runs out; another node then delivers the callback, once', async () => {
  const context = gh.platform.context;
  const leaseSeconds = 2;
  // The "dead node": it claims the callback as it is written and never delivers it.
  const claimedAtMs = Date.now();
  const [id] = await withTransaction(context.pool, async (tx) => {
    const written = await insertCallbacks(tx, 'claims-dead-node', 1);
    const claimed = await claimDueCallbacks(tx, 10, leaseSeconds);
    assert.equal(claimed.length, 1, 'the dead node held exactly the new callback');
    return written;
  });
  context.callbacks.wake();
  await sleep(1_000);
  assert.equal(gh.callbacksFor(id).length, 0, 'nobody delivers a callback while its claim holds');
  await waitUntil(() => gh.callbacksFor(id).length > 0, 10_000, 'the callback delivered after the claim ran out');
  const deliveredAtMs = gh.receiver.callbacks.find((callback) => callback.body.payment?.id === id)!.receivedAt;
  assert.ok(deliveredAtMs - claimedAtMs >= leaseSeconds * 1000 - 100, `delivered ${deliveredAtMs - claimedAtMs} ms after the claim`);
  await sleep(300);
  assert.equal(gh.callbacksFor(id).length, 1);
});
