import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { signGateRequest } from '../src/signature/index.ts';
import { createProject } from '../src/store/projects.ts';
import { createTestDatabase, stopTestServer, type TestDatabase } from './support/database.ts';
import { killAll, startNode } from './support/nodes.ts';
import { saleBody, startCallbackReceiver, type CallbackReceiver } from './support/platform.ts';

/**
 * Nothing is lost: a node is killed with SIGKILL while it accepts sales;
 * another node on the same database finishes every payment the dead one
 * accepted (its jobs expire and are retried), without a duplicate PayPal
 * order, and every payment reaches a final status once approved.
 */
const children: ChildProcess[] = [];
let database: TestDatabase | undefined;
let receiver: CallbackReceiver | undefined;

after(async () => {
  killAll(children);
  await receiver?.stop();
  await database?.drop();
  await stopTestServer();
});

test('kill -9 under load: every accepted payment is finished by the surviving node, once', async () => {
  database = await createTestDatabase();
  receiver = await startCallbackReceiver();
  const project = await createProject(database.pool, { name: 'crash', mode: 'test', callbackUrl: receiver.url });
  const victim = await startNode(database.connectionString, children);

  const accepted = new Set<string>();
  const sent: string[] = [];
  let stop = false;
  const client = async (worker: number) => {
    for (let index = 0; !stop && index < 200; index += 1) {
      const paymentId = `crash-${worker}-${index}`;
      sent.push(paymentId);
      const response = await fetch(`${victim.url}/v2/payment/wallet/paypal/sale`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(signGateRequest(saleBody(project.id, paymentId), project.secretKey)),
      }).catch(() => undefined);
      if (response?.status === 200) accepted.add(paymentId);
      else if (response) assert.fail(`unexpected ${response.status}`);
      else return;
    }
  };
  const clients = Array.from({ length: 8 }, (_, worker) => client(worker));
  while (accepted.size < 60) await sleep(5);
  victim.child.kill('SIGKILL');
  stop = true;
  await Promise.all(clients);

  const survivor = await startNode(database.connectionString, children);
  const { rows: stored } = await database.pool.query<{ payment_id: string }>('SELECT payment_id FROM payments WHERE project_id = $1', [String(project.id)]);
  const storedIds = new Set(stored.map((row) => row.payment_id));
  for (const paymentId of accepted) assert.ok(storedIds.has(paymentId), `accepted ${paymentId} was stored`);

  // Every stored payment gets its PayPal order and intermediate callback, from whichever node.
  const deadline = Date.now() + 60_000;
  const intermediates = () => new Map(receiver!.callbacks.filter((c) => c.body.operation?.code === '9999').map((c) => [c.body.payment.id as string, c.body]));
  while (intermediates().size < storedIds.size && Date.now() < deadline) await sleep(200);
  const redirects = intermediates();
  assert.equal(redirects.size, storedIds.size, `intermediate callbacks for all ${storedIds.size} stored payments`);

  const orders = await database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM paypal_sandbox.orders`);
  assert.equal(orders.rows[0].n, storedIds.size, 'one PayPal order per payment, none twice');

  // The customer approves at the sandbox (served by the survivor now); every payment ends in success.
  const victimPort = new URL(victim.url).port;
  const survivorPort = new URL(survivor.url).port;
  for (const [, body] of redirects) {
    const approvalUrl = String(body.redirect_data.url).replace(`:${victimPort}/`, `:${survivorPort}/`);
    const approved = await fetch(approvalUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=approve',
      redirect: 'manual',
    });
    const walletReturn = approved.headers.get('location')!.replace(`:${victimPort}/`, `:${survivorPort}/`);
    await fetch(walletReturn, { redirect: 'manual' });
  }
  const finalDeadline = Date.now() + 60_000;
  const finals = () => new Set(receiver!.callbacks.filter((c) => c.body.operation?.code === '0').map((c) => c.body.payment.id as string));
  while (finals().size < storedIds.size && Date.now() < finalDeadline) await sleep(200);
  assert.equal(finals().size, storedIds.size, 'every payment reached success');
  const { rows: statuses } = await database.pool.query(`SELECT status, count(*)::int AS n FROM payments WHERE project_id = $1 GROUP BY status`, [String(project.id)]);
  assert.deepEqual(statuses, [{ status: 'success', n: storedIds.size }]);
  const captures = await database.pool.query(`SELECT count(*)::int AS n FROM paypal_sandbox.captures`);
  assert.equal(captures.rows[0].n, storedIds.size, 'one capture per payment');
  survivor.child.kill('SIGTERM');
});
