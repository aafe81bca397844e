import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMerchant, createMerchantProject } from '../src/accounts/merchants.ts';
import { createUser } from '../src/accounts/users.ts';
import { DashboardClient } from '../src/dashboard/client.ts';
import { balancesOf } from '../src/ledger/balances.ts';
import { checkLedger } from '../src/ledger/check.ts';
import { feeMinor, transfersFor } from '../src/ledger/rules.ts';
import type { Project } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { actAtApprovalPage, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * The double-entry ledger: pure posting rules, the database's own guards
 * (balanced transactions, append-only entries), the invariants check, and a
 * race of refunds through the Dashboard API and Gate at once.
 */
const password = 'correct horse battery staple';
let gh: TestPlatform;
let project: Project;
let admin: DashboardClient;

before(async () => {
  gh = await startTestPlatform();
  const pool = gh.platform.context.pool;
  const merchant = await createMerchant(pool, 'Ledger Ltd');
  project = await createMerchantProject(pool, merchant.id, { name: 'Ledger test', mode: 'test', callbackUrl: gh.receiver.url });
  await createUser(pool, { email: 'admin@ledger.example', role: 'merchant_admin', merchantId: merchant.id, password });
  admin = new DashboardClient(gh.baseUrl);
  await admin.signIn('admin@ledger.example', password);
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

describe('posting rules (pure)', () => {
  test('each money-moving operation type has its transfer; holds, releases and COF cancellations move nothing', () => {
    const route = (type: Parameters<typeof transfersFor>[0]) => transfersFor(type, 1000n, 'USD').map((transfer) => `${transfer.from}->${transfer.to}`);
    assert.deepEqual(route('sale'), ['customer_funds->merchant_balance']);
    assert.deepEqual(route('capture'), ['customer_funds->merchant_balance']);
    assert.deepEqual(route('recurring'), ['customer_funds->merchant_balance']);
    assert.deepEqual(route('refund'), ['merchant_balance->customer_funds']);
    assert.deepEqual(route('payout'), ['merchant_balance->payouts_out']);
    assert.deepEqual(route('chargeback'), ['merchant_balance->chargebacks']);
    assert.deepEqual(route('auth'), []);
    assert.deepEqual(route('cancel'), []);
    assert.deepEqual(route('recurring_cancel'), []);
    assert.deepEqual(transfersFor('sale', 0n, 'USD'), []);
  });

  test('fees: basis points rounded down plus a fixed part, from the merchant balance', () => {
    assert.equal(feeMinor(1000n, { percentBasisPoints: 290, fixedMinor: 30n }), 59n);
    assert.equal(feeMinor(999n, { percentBasisPoints: 1, fixedMinor: 0n }), 0n);
    assert.equal(feeMinor(1000n, undefined), 0n);
    const transfers = transfersFor('payout', 5000n, 'EUR', { percentBasisPoints: 100, fixedMinor: 25n });
    assert.deepEqual(transfers[1], { from: 'merchant_balance', to: 'fees', amountMinor: 75n, currency: 'EUR' });
  });
});

describe('database guards', () => {
  test('a ledger transaction whose debits and credits differ cannot commit; entries cannot be changed or removed', async () => {
    const pool = gh.platform.context.pool;
    const paymentId = `guard-${Date.now()}`;
    await approved(paymentId, 1000);
    const { rows } = await pool.query<{ id: string; payment_ref: string; operation_id: string }>(
      `SELECT t.id::text AS id, t.payment_ref::text AS payment_ref, t.operation_id::text AS operation_id
         FROM ledger_transactions t JOIN payments p ON p.id = t.payment_ref WHERE p.payment_id = $1`,
      [paymentId],
    );
    assert.equal(rows.length, 1);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // A made-up chargeback operation with a one-legged entry.
      const operation = await client.query<{ id: string }>(
        `INSERT INTO operations (payment_ref, project_id, type, status, amount_minor, currency, converted_amount_minor, converted_currency, request_id)
         VALUES ($1, $2, 'chargeback', 'success', 100, 'USD', 100, 'USD', $3) RETURNING id::text AS id`,
        [rows[0].payment_ref, String(project.id), `guard-${Date.now()}`],
      );
      const transaction = await client.query<{ id: string }>(
        `INSERT INTO ledger_transactions (project_id, payment_ref, operation_id, operation_type, booked_at) VALUES ($1, $2, $3, 'chargeback', now()) RETURNING id::text AS id`,
        [String(project.id), rows[0].payment_ref, operation.rows[0].id],
      );
      await client.query(`INSERT INTO ledger_entries (transaction_id, project_id, account, currency, side, amount_minor) VALUES ($1, $2, 'merchant_balance', 'USD', 'debit', 100)`, [
        transaction.rows[0].id,
        String(project.id),
      ]);
      await assert.rejects(client.query('COMMIT'), /does not balance/);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
    await assert.rejects(pool.query(`UPDATE ledger_entries SET amount_minor = amount_minor + 1 WHERE transaction_id = $1`, [rows[0].id]), /append-only/);
    await assert.rejects(pool.query(`DELETE FROM ledger_entries WHERE transaction_id = $1`, [rows[0].id]), /append-only/);
    await assert.rejects(pool.query(`DELETE FROM ledger_transactions WHERE id = $1`, [rows[0].id]), /append-only/);
    const posting = await pool.query(`INSERT INTO ledger_transactions (project_id, payment_ref, operation_id, operation_type, booked_at) VALUES ($1, $2, $3, 'sale', now())`, [
      String(project.id),
      rows[0].payment_ref,
      rows[0].operation_id,
    ]).catch((error: Error) => error);
    assert.match(String(posting), /duplicate key/, 'an operation is posted at most once');
  });
});

async function approved(paymentId: string, amount: number): Promise<void> {
  const started = await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(project.id, paymentId, amount), { secret: project.secretKey });
  assert.equal(started.status, 200, JSON.stringify(started.json));
  const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
  await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
  const final = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code !== '9999');
  assert.equal(final.payment.status, 'success');
}

describe('invariants under concurrency', () => {
  test('refunds racing through the Dashboard API and Gate never over-refund and keep every ledger invariant', async () => {
    const pool = gh.platform.context.pool;
    const payments = Array.from({ length: 4 }, (_, index) => `race-${Date.now()}-${index}`);
    for (const paymentId of payments) await approved(paymentId, 1000);
    const before = await balancesOf(pool, [project.id]);
    const startedAt = performance.now();
    // 8 refunds of 300 per payment (1000 captured): 4 through the dashboard, 4 through Gate, all at once.
    const attempts = payments.flatMap((paymentId) =>
      Array.from({ length: 8 }, (_, index) =>
        index % 2 === 0
          ? admin.post(`/projects/${project.id}/payments/${paymentId}/refund`, { amount: 300, currency: 'USD', description: `dashboard ${index}` }).then((response) => ({
              paymentId,
              via: 'dashboard',
              status: response.status,
              code: response.json.code ?? response.json.status,
            }))
          : gh
              .gate(
                '/v2/payment/wallet/paypal/refund',
                { general: { project_id: Number(project.id), payment_id: paymentId }, payment: { amount: 300, currency: 'USD', description: `gate ${index}` } },
                { secret: project.secretKey },
              )
              .then((response) => ({ paymentId, via: 'gate', status: response.status, code: response.json.code ?? response.json.status })),
      ),
    );
    const outcomes = await Promise.all(attempts);
    const racedMs = performance.now() - startedAt;
    for (const paymentId of payments) {
      const mine = outcomes.filter((outcome) => outcome.paymentId === paymentId);
      assert.equal(mine.filter((outcome) => outcome.code === 'success').length, 3, `exactly 3 of 8 accepted for ${paymentId}: ${JSON.stringify(mine)}`);
      assert.ok(mine.filter((outcome) => outcome.code !== 'success').every((outcome) => outcome.code === '3283'));
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await pool.query<{ open: string }>(
        `SELECT count(*)::text AS open FROM operations WHERE project_id = $1 AND type = 'refund' AND status IN ('processing', 'awaiting redirect result')`,
        [String(project.id)],
      );
      if (rows[0].open === '0') break;
      assert.ok(Date.now() < deadline, 'refunds finished');
      await sleep(100);
    }
    const check = await checkLedger(pool, { projectId: project.id });
    assert.equal(check.ok, true, JSON.stringify(check));
    const { rows } = await pool.query<{ refunded_minor: bigint; status: string }>(
      'SELECT refunded_minor, status FROM payments WHERE project_id = $1 AND payment_id = ANY($2::text[])',
      [String(project.id), payments],
    );
    assert.ok(rows.every((row) => row.refunded_minor === 900n && row.status === 'partially refunded'));
    const afterBalances = await balancesOf(pool, [project.id]);
    const usd = (list: typeof afterBalances) => list.find((balance) => balance.currency === 'USD')!;
    assert.equal(usd(before).merchantBalanceMinor - usd(afterBalances).merchantBalanceMinor, 4n * 900n);
    assert.equal(usd(afterBalances).accounts.customer_funds, -usd(afterBalances).merchantBalanceMinor, 'no fees: what the merchant holds came from customers');
    const api = await admin.get(`/balances?project_id=${project.id}`);
    assert.equal(api.json.balances.find((balance: any) => balance.currency === 'USD').balance_minor, usd(afterBalances).merchantBalanceMinor.toString());
    console.log(`ledger race: refund_requests=${outcomes.length} accepted=${outcomes.filter((outcome) => outcome.code === 'success').length} raced_ms=${racedMs.toFixed(0)} entries=${check.entries} transactions=${check.transactions}`);
  });

  test('the whole database passes the check (every project, every currency)', async () => {
    const check = await checkLedger(gh.platform.context.pool);
    assert.equal(check.ok, true, JSON.stringify(check));
    assert.ok(check.transactions > 0);
  });
});
