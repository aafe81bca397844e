import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { IntakePressure } from '../src/jobs/intake-pressure.ts';
import { loadOrCreateSigningKey, WebhookDispatcher } from '../src/sandbox/paypal/webhooks.ts';
import { createTestDatabase, stopTestServer, type TestDatabase } from './support/database.ts';

/**
 * The sandbox stands for PayPal but runs in the node's process: while
 * merchants' Gate requests crowd the node, its webhook deliveries go one at a
 * time (as the node's own background work does), and all of them go out
 * once the pressure ends. Without the pressure the dispatcher sends 20 at once.
 */
const deliveries = 30;
/** The receiver holds each delivery this long, so that deliveries sent together overlap. */
const holdMs = 15;

let database: TestDatabase;
let receiver: Server;
let receiverUrl: string;
let inFlight = 0;
const received: { at: number; concurrent: number }[] = [];

before(async () => {
  database = await createTestDatabase();
  receiver = createServer((request, response) => {
    inFlight += 1;
    received.push({ at: performance.now(), concurrent: inFlight });
    request.resume();
    setTimeout(() => {
      inFlight -= 1;
      response.end('{}');
    }, holdMs);
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
});

after(async () => {
  receiver.close();
  await database.drop();
  await stopTestServer();
});

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (received ${received.length})`);
    await sleep(10);
  }
}

test('under intake pressure the sandbox delivers its webhooks one at a time, and all of them once the pressure ends', async () => {
  const pool = database.pool;
  await pool.query(`INSERT INTO paypal_sandbox.webhook_events (id, event_type, resource_type, resource_id, body, created_at)
                    VALUES ('WH-PRESSURE', 'PAYMENT.CAPTURE.COMPLETED', 'capture', 'CAPTURE-1', '{"id":"WH-PRESSURE"}', now())`);
  await pool.query(`INSERT INTO paypal_sandbox.webhook_deliveries (event_id, copy_number, next_attempt_at)
                    SELECT 'WH-PRESSURE', n, now() FROM generate_series(1, $1::int) AS n`, [deliveries]);
  const pressure = new IntakePressure(2, 50);
  pressure.enter();
  pressure.enter();
  assert.ok(pressure.high);
  const dispatcher = new WebhookDispatcher({
    pool,
    key: await loadOrCreateSigningKey(pool),
    certificateUrl: 'http://127.0.0.1/certs/test',
    webhookId: 'WH-TEST',
    webhookUrl: () => receiverUrl,
    now: () => new Date(),
    log: () => undefined,
    pressure,
  });
  try {
    dispatcher.deliverDue();
    await waitFor('5 deliveries under pressure', () => received.length >= 5);
    assert.deepEqual(
      received.map((delivery) => delivery.concurrent),
      received.map(() => 1),
      'one delivery at a time while merchants crowd the node',
    );

    pressure.leave();
    pressure.leave();
    await waitFor('every delivery', () => received.length >= deliveries);
    assert.ok(Math.max(...received.map((delivery) => delivery.concurrent)) > 1, 'several at once after the pressure');
    await waitFor('results recorded', () => inFlight === 0);
    await sleep(50);
    const { rows } = await pool.query<{ delivered: number }>(
      `SELECT count(*)::int AS delivered FROM paypal_sandbox.webhook_deliveries WHERE event_id = 'WH-PRESSURE' AND delivered_at IS NOT NULL`,
    );
    assert.equal(rows[0].delivered, deliveries, 'each delivered once and recorded');
    assert.equal(received.length, deliveries, 'none sent twice');
  } finally {
    await dispatcher.close();
  }
});
