import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stopTestServer } from './support/database.ts';
import { saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * The Gate's accept writes a payment, its operation, its timers and its
 * provider job with ONE statement (no BEGIN/COMMIT): atomic on its own. A
 * payment written without its job would never reach PayPal, and a job
 * without its payment would fail forever; either way the merchant would
 * wait for a callback that never comes.
 */
let gh: TestPlatform;

before(async () => {
  gh = await startTestPlatform();
});

after(async () => {
  await gh?.stop();
  await stopTestServer();
});

async function countRows(table: 'payments' | 'operations' | 'scheduled_tasks', paymentId?: string): Promise<number> {
  const where = paymentId === undefined ? '' : ' WHERE payment_id = $1';
  const { rows } = await gh.database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}${where}`, paymentId === undefined ? [] : [paymentId]);
  return rows[0].n;
}

test('a sale whose provider job cannot be written is refused with 1000 and leaves no payment, operation or timer behind; sent again, it goes through', async () => {
  const operationsBefore = await countRows('operations');
  const tasksBefore = await countRows('scheduled_tasks');
  // Every job insert now fails: the last part of the accept's statement.
  await gh.database.pool.query('ALTER TABLE pgboss.job ADD CONSTRAINT test_no_new_jobs CHECK (false) NOT VALID');
  let refused;
  try {
    refused = await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, 'atomic-1'));
  } finally {
    await gh.database.pool.query('ALTER TABLE pgboss.job DROP CONSTRAINT test_no_new_jobs');
  }
  assert.equal(refused.status, 500, JSON.stringify(refused.json));
  assert.equal(refused.json.code, '1000');
  assert.equal(await countRows('payments', 'atomic-1'), 0, 'no payment without its job');
  assert.equal(await countRows('operations'), operationsBefore);
  assert.equal(await countRows('scheduled_tasks'), tasksBefore);

  // The payment_id was not taken: the merchant's retry is accepted and processed.
  const accepted = await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, 'atomic-1'));
  assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
  const redirect = await gh.waitForCallback((body) => body.payment?.id === 'atomic-1' && body.operation?.code === '9999');
  assert.ok(redirect.redirect_data?.url, JSON.stringify(redirect));
  assert.equal(await countRows('payments', 'atomic-1'), 1);
});
