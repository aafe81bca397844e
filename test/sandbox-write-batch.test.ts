import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { isWriteConflict, recordDeliveryResults, recordDeliveryResultsStatement, WriteBatch, type Client } from '../src/sandbox/paypal/store.ts';
import { createTestDatabase, stopTestServer, type TestDatabase } from './support/database.ts';
import { planNodes, preparedPlan } from './support/plans.ts';

// The sandbox gathers an action's writes into one statement: every write lands, in one round trip, or none does.
let database: TestDatabase;
let client: pg.PoolClient;
const sent: string[] = [];

before(async () => {
  database = await createTestDatabase();
  client = await database.pool.connect();
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
    sent.push(String(args[0]));
    return query(...args);
  };
  await client.query(`CREATE TEMP TABLE parents (id text PRIMARY KEY, status text NOT NULL)`);
  await client.query(`CREATE TEMP TABLE children (id text PRIMARY KEY, parent_id text NOT NULL REFERENCES parents (id), amount bigint NOT NULL)`);
  await client.query(`CREATE TEMP TABLE events (id text PRIMARY KEY, body text NOT NULL)`);
  await client.query(`CREATE TEMP TABLE deliveries (event_id text NOT NULL REFERENCES events (id), copy int NOT NULL)`);
  await client.query(`INSERT INTO parents VALUES ('p1', 'APPROVED')`);
});

after(async () => {
  client.release();
  await database.drop();
  await stopTestServer();
});

/** Shaped like the sandbox's event write: a row and rows that refer to it, written together. */
const eventWrite = async (batch: WriteBatch, id: string, copies: number) => {
  await batch.query('INSERT INTO events (id, body) VALUES ($1, $2)', [id, `{"id":"${id}"}`]);
  await batch.query('INSERT INTO deliveries (event_id, copy) SELECT $1, copy FROM generate_series(1, $2::int) AS copy', [id, copies]);
};

test('writes with their own parameters go in ONE statement, each value in its place; rows may refer to rows written with them', async () => {
  const batch = new WriteBatch();
  await eventWrite(batch, 'e1', 3);
  await batch.query('INSERT INTO children (id, parent_id, amount) VALUES ($1, $2, $3)', ['c1', 'p1', '1000']);
  await batch.query('UPDATE parents SET status = $2 WHERE id = $1', ['p1', 'COMPLETED']);
  sent.length = 0;
  await batch.send(client as unknown as Client);
  assert.equal(sent.length, 1, 'one round trip');
  assert.deepEqual((await client.query(`SELECT status FROM parents WHERE id = 'p1'`)).rows, [{ status: 'COMPLETED' }]);
  assert.deepEqual((await client.query(`SELECT id, parent_id, amount::text FROM children`)).rows, [{ id: 'c1', parent_id: 'p1', amount: '1000' }]);
  assert.deepEqual((await client.query(`SELECT body FROM events WHERE id = 'e1'`)).rows, [{ body: '{"id":"e1"}' }]);
  assert.equal((await client.query(`SELECT count(*)::int AS n FROM deliveries WHERE event_id = 'e1'`)).rows[0].n, 3);
});

test('one failing write fails them all: nothing of the batch is written', async () => {
  const batch = new WriteBatch();
  await batch.query('UPDATE parents SET status = $2 WHERE id = $1', ['p1', 'VOIDED']);
  await eventWrite(batch, 'e2', 1);
  await batch.query('INSERT INTO children (id, parent_id, amount) VALUES ($1, $2, $3)', ['c2', 'no-such-parent', '5']);
  await assert.rejects(batch.send(client as unknown as Client), /foreign key/);
  assert.deepEqual((await client.query(`SELECT status FROM parents WHERE id = 'p1'`)).rows, [{ status: 'COMPLETED' }]);
  assert.equal((await client.query(`SELECT count(*)::int AS n FROM events WHERE id = 'e2'`)).rows[0].n, 0);
});

test('a final statement is sent with the writes, and its row count is the answer (0: the batch is rolled back by the caller)', async () => {
  const last = { text: 'INSERT INTO parents (id, status) VALUES ($1, $2) ON CONFLICT DO NOTHING', values: ['p2', 'CREATED'] };
  const first = new WriteBatch();
  await first.query('INSERT INTO children (id, parent_id, amount) VALUES ($1, $2, $3)', ['c3', 'p1', '7']);
  sent.length = 0;
  assert.equal(await first.send(client as unknown as Client, last), 1);
  assert.equal(sent.length, 1);
  const repeated = new WriteBatch();
  await repeated.query('INSERT INTO children (id, parent_id, amount) VALUES ($1, $2, $3)', ['c4', 'p1', '7']);
  assert.equal(await repeated.send(client as unknown as Client, last), 0, 'the key was taken');
  assert.equal(await new WriteBatch().send(client as unknown as Client), 0, 'nothing gathered: nothing sent');
});

test('a single write is sent as it is; a write with its own WITH is refused (PostgreSQL allows those only at the top)', async () => {
  const single = new WriteBatch();
  await single.query('UPDATE parents SET status = $2 WHERE id = $1', ['p1', 'REFUNDED']);
  sent.length = 0;
  await single.send(client as unknown as Client);
  assert.deepEqual(sent, ['UPDATE parents SET status = $2 WHERE id = $1']);
  await assert.rejects(new WriteBatch().query('WITH x AS (SELECT 1) INSERT INTO events SELECT 1, 2 FROM x', []), /must not begin with WITH/);
});

test('a transition that finds its row in the state it names writes with the rest; one that finds it moved on fails them all as a write conflict', async () => {
  await client.query(`INSERT INTO parents VALUES ('p9', 'APPROVED')`);
  const moved = new WriteBatch();
  await moved.transition('UPDATE parents SET status = $2 WHERE id = $1 AND status = $3', ['p9', 'COMPLETED', 'APPROVED']);
  await eventWrite(moved, 'e9', 2);
  sent.length = 0;
  await moved.send(client as unknown as Client);
  assert.equal(sent.length, 1, 'one round trip');
  assert.deepEqual((await client.query(`SELECT status FROM parents WHERE id = 'p9'`)).rows, [{ status: 'COMPLETED' }]);
  assert.equal((await client.query(`SELECT count(*)::int AS n FROM deliveries WHERE event_id = 'e9'`)).rows[0].n, 2);

  // The same move again (a second capture that read APPROVED before the first wrote): nothing of it is written.
  const again = new WriteBatch();
  await eventWrite(again, 'e10', 1);
  await again.transition('UPDATE parents SET status = $2 WHERE id = $1 AND status = $3', ['p9', 'COMPLETED', 'APPROVED']);
  const failure = await again.send(client as unknown as Client).then(() => undefined, (error: unknown) => error);
  assert.ok(isWriteConflict(failure), `a write conflict: ${String(failure)}`);
  assert.equal((await client.query(`SELECT count(*)::int AS n FROM events WHERE id = 'e10'`)).rows[0].n, 0, 'the event written with it is gone too');
  assert.equal((await client.query(`SELECT count(*)::int AS n FROM paypal_sandbox.write_conflicts`)).rows[0].n, 0, 'no conflict row is ever kept');
  assert.ok(!isWriteConflict(new Error('other')));
});

test('delivery results of one turn are recorded in ONE statement, each on its own delivery', async () => {
  await client.query(
    `INSERT INTO paypal_sandbox.webhook_events (id, event_type, resource_type, resource_id, body, created_at) VALUES ('WH-BATCH', 'X', 'capture', 'R', '{}', now())`,
  );
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO paypal_sandbox.webhook_deliveries (event_id, copy_number, attempts, next_attempt_at) VALUES ('WH-BATCH', 1, 1, now()), ('WH-BATCH', 2, 1, now()) RETURNING id::text`,
  );
  const deliveredAt = new Date('2026-11-24T10:00:00.123Z');
  const retryAt = new Date('2026-11-24T10:00:10.456Z');
  sent.length = 0;
  await recordDeliveryResults(client as unknown as Client, [
    { deliveryId: rows[0].id, deliveredAt, nextAttemptAt: null, statusCode: 200, error: null },
    { deliveryId: rows[1].id, deliveredAt: null, nextAttemptAt: retryAt, statusCode: 503, error: 'HTTP 503' },
  ]);
  assert.equal(sent.length, 1, 'one round trip');
  const stored = await client.query(
    `SELECT copy_number, delivered_at, next_attempt_at, last_status_code, last_error FROM paypal_sandbox.webhook_deliveries WHERE event_id = 'WH-BATCH' ORDER BY copy_number`,
  );
  assert.deepEqual(stored.rows, [
    { copy_number: 1, delivered_at: deliveredAt, next_attempt_at: null, last_status_code: 200, last_error: null },
    { copy_number: 2, delivered_at: null, next_attempt_at: retryAt, last_status_code: 503, last_error: 'HTTP 503' },
  ]);
});

test('recording delivery results finds the deliveries by their keys, however many the table holds, in the plan a connection keeps', async () => {
  await client.query(`INSERT INTO paypal_sandbox.webhook_events (id, event_type, resource_type, resource_id, body, created_at)
                      VALUES ('WH-MANY', 'CHECKOUT.ORDER.APPROVED', 'checkout-order', 'ORDER-MANY', '{}', now())`);
  await client.query(`INSERT INTO paypal_sandbox.webhook_deliveries (event_id, copy_number, next_attempt_at)
                      SELECT 'WH-MANY', n, NULL FROM generate_series(1, 3000) AS n`);
  await client.query('ANALYZE paypal_sandbox.webhook_deliveries');
  const { rows } = await client.query<{ id: string }>(`SELECT id::text FROM paypal_sandbox.webhook_deliveries WHERE event_id = 'WH-MANY' ORDER BY id DESC LIMIT 2`);
  const input = JSON.stringify(rows.map((row) => ({ id: row.id, delivered_at: new Date(), next_attempt_at: null, last_status_code: 200, last_error: null })));
  const plan = await preparedPlan(client, recordDeliveryResultsStatement, 'jsonb', client.escapeLiteral(input), 'force_generic_plan');
  const readThrough = planNodes(plan).filter((node) => node['Node Type'] === 'Seq Scan').map((node) => node['Relation Name']);
  assert.deepEqual(readThrough, [], 'no table is read through');
});
