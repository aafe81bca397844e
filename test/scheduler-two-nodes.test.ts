import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { debitPaymentId } from '../src/domain/recurring.ts';
import { setTestClock } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { killAll, startNode } from './support/nodes.ts';
import { actAtApprovalPage, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * Two real Gatehouse processes share one PostgreSQL; 40 scheduled COF debits
 * fall due at once; one process is killed with SIGKILL in the middle of the
 * batch. Every due date must still be debited exactly once.
 */
let gh: TestPlatform;
const children: ChildProcess[] = [];

before(async () => {
  // The in-process node keeps its scheduler idle: only the two child processes perform the debits.
  gh = await startTestPlatform({ schedulerIntervalMs: 3_600_000 });
});
after(async () => {
  killAll(children);
  await gh?.stop();
  await stopTestServer();
});

async function debitsScheduled(recurringId: number): Promise<number> {
  const { rows } = await gh.platform.context.pool.query('SELECT debits_scheduled FROM recurring_registrations WHERE id = $1', [recurringId]);
  return rows[0].debits_scheduled;
}

test('two nodes and a kill -9 mid-batch: exactly one debit per due date', async () => {
  const pool = gh.platform.context.pool;
  await setTestClock(pool, gh.project.id, new Date('2027-01-01T00:00:00Z'));
  gh.project.testClockAt = new Date('2027-01-01T00:00:00Z');
  const scheduledPaymentId = `crash-${Date.now()}`;
  const body = saleBody(gh.project.id, `register-${scheduledPaymentId}`);
  body.recurring = { register: true, type: 'R', period: 'D', time: '06:00:00', start_date: '02-01-2027', scheduled_payment_id: scheduledPaymentId };
  assert.equal((await gh.gate('/v2/payment/wallet/paypal/sale', body)).status, 200);
  const intermediate = await gh.waitForCallback((callback) => callback.payment.id === body.general.payment_id);
  await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
  const registered = await gh.waitForCallback((callback) => callback.payment.id === body.general.payment_id && callback.operation.code === '0');
  const recurringId = registered.recurring.id as number;

  const nodeEnv = { SCHEDULER_INTERVAL_MS: '20', JOB_EXPIRE_SECONDS: '60' };
  const [victim] = await Promise.all([startNode(gh.database.connectionString, children, nodeEnv), startNode(gh.database.connectionString, children, nodeEnv)]);
  // 40 daily debits (2 January to 10 February) become due at once.
  await setTestClock(pool, gh.project.id, new Date('2027-02-10T12:00:00Z'));
  const deadline = Date.now() + 30_000;
  while ((await debitsScheduled(recurringId)) < 5 && Date.now() < deadline) await sleep(5);
  victim.child.kill('SIGKILL');
  const killedAt = await debitsScheduled(recurringId);
  assert.ok(killedAt < 40, `the kill landed mid-batch (after ${killedAt} debits)`);

  const finishDeadline = Date.now() + 90_000;
  while ((await debitsScheduled(recurringId)) < 40 && Date.now() < finishDeadline) await sleep(100);
  assert.equal(await debitsScheduled(recurringId), 40);

  const { rows } = await pool.query(
    `SELECT payment_id, created_at FROM payments WHERE recurring_id = $1 AND type = 'recurring' ORDER BY created_at`,
    [recurringId],
  );
  assert.equal(rows.length, 40, 'one payment per due date');
  assert.deepEqual(rows.map((row) => row.payment_id), Array.from({ length: 40 }, (_, index) => debitPaymentId(scheduledPaymentId, index)));
  const days = rows.map((row) => (row.created_at as Date).toISOString());
  assert.equal(new Set(days).size, 40);
  assert.equal(days[0], '2027-01-02T06:00:00.000Z');
  assert.equal(days[39], '2027-02-10T06:00:00.000Z');
  const tasks = await pool.query(
    `SELECT status, count(*)::int AS n FROM scheduled_tasks WHERE kind = 'recurring_debit' AND subject_id = $1 GROUP BY status ORDER BY status`,
    [recurringId],
  );
  assert.deepEqual(tasks.rows, [{ status: 'done', n: 40 }, { status: 'pending', n: 1 }]);
});
