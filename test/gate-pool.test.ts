import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { stopTestServer } from './support/database.ts';
import { saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * Gate requests have PostgreSQL connections of their own (GATE_POOL_SIZE).
 * Here background work is played by holding every connection of the node's
 * general pool: a merchant's sale and status request must still be answered
 * at once, and the payment must go on once the pool frees up. With one
 * shared pool, both requests wait until the held connections come back.
 */
const answerWithinMs = 5_000;

let gh: TestPlatform;

before(async () => {
  gh = await startTestPlatform({ databasePoolSize: 2, gatePoolSize: 2 });
});

after(async () => {
  await gh?.stop();
  await stopTestServer();
});

/** Resolves with the answer, or fails the test when it takes longer than the bound. */
async function within<T>(what: string, answer: Promise<T>): Promise<T> {
  const timeout = sleep(answerWithinMs).then(() => {
    throw new Error(`${what} was not answered within ${answerWithinMs} ms while the general pool was busy`);
  });
  return Promise.race([answer, timeout]);
}

test('a sale and a status request are answered while background work holds every connection of the general pool', async () => {
  const pool = gh.platform.context.pool;
  const held: pg.PoolClient[] = [];
  try {
    for (let index = 0; index < gh.config.databasePoolSize; index += 1) held.push(await pool.connect());
    assert.equal(pool.waitingCount, 0);

    const sale = await within('the sale', gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, 'busy-pool-1')));
    assert.equal(sale.status, 200, JSON.stringify(sale.json));
    assert.equal(sale.json.status, 'success');

    const status = await within('the status request', gh.gate('/v2/payment/status', { general: { project_id: Number(gh.project.id), payment_id: 'busy-pool-1' } }));
    assert.equal(status.status, 200, JSON.stringify(status.json));
    assert.equal(status.json.payment.status, 'processing');
  } finally {
    for (const client of held) client.release();
  }

  // Nothing was lost while the general pool was busy: the provider job runs and the customer is sent to PayPal.
  const redirect = await gh.waitForCallback((body) => body.payment?.id === 'busy-pool-1' && body.operation?.code === '9999');
  assert.ok(String(redirect.redirect_data?.url).startsWith(gh.baseUrl), JSON.stringify(redirect.redirect_data));
});

test('/metrics shows the Gate pool with its maximum and no request waiting for it', async () => {
  const text = await (await fetch(`${gh.baseUrl}/metrics`)).text();
  assert.match(text, /^gatehouse_db_gate_pool_connections\{state="max"\} 2$/m);
  assert.match(text, /^gatehouse_db_gate_pool_waiting_clients 0$/m);
  assert.match(text, /^gatehouse_db_pool_connections\{state="max"\} 2$/m);
});
