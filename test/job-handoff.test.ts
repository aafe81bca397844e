import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobQueue, queueNames } from '../src/jobs/queue.ts';
import { randomUUID } from 'node:crypto';
import { withTransaction, type Queryable } from '../src/store/db.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

/**
 * A job sent `here` is run by the node that sent it, right away, instead of
 * waiting to be fetched. These tests hold what the queue promised before:
 * every job runs (at least once, and once when nothing fails), a failed run is
 * retried, and a job whose node died is run by another node.
 */
let database: TestDatabase;
const queues: JobQueue[] = [];
const name = queueNames.notificationEmail;

before(async () => {
  database = await createTestDatabase();
});
// Each test's nodes stop with it: a node left working the queue would run the next test's jobs.
afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.stop(1_000).catch(() => undefined);
});
after(async () => {
  await database.drop();
});

/** Jobs of `name` written by a statement of ours, as the Gate's accept writes its provider jobs with its payments. */
async function writeAlongside(queue: JobQueue, db: Queryable, data: readonly object[], here = true): Promise<string[]> {
  const alongside = queue.jobsAlongside(name, { here });
  const jobs = data.map((item) => ({ id: randomUUID(), data: item }));
  const input = jobs.map((job) => ({ ...job, name, startAfter: alongside.startAfter }));
  await db.query(`WITH job AS (${alongside.insertReading('$1::json', 2)}) SELECT 1`, [JSON.stringify(input), ...alongside.parameters]);
  alongside.written(db, jobs);
  return jobs.map((job) => job.id);
}

/** A node's queue working `name`; `handle` sees each run. */
async function node(handle: (data: { key: string }) => Promise<void>, slots = 4): Promise<JobQueue> {
  const queue = new JobQueue({ connectionString: database.connectionString, pollingIntervalSeconds: 0.2, expireInSeconds: 2, maintenanceIntervalSeconds: 60 });
  queues.push(queue);
  await queue.start();
  await queue.work<{ key: string }>(name, slots, handle);
  return queue;
}

async function jobRows(key: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND data->>'key' = $2`, [name, key]);
  return rows[0].n;
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

test('jobs sent here run once each on the sending node, none on another node polling meanwhile, and leave no job behind', async () => {
  const runs: Record<string, string[]> = {};
  // Each run takes a while, as a provider call does: long enough for the other node to poll several times.
  const record = (nodeName: string) => async (data: { key: string }) => {
    runs[data.key] = [...(runs[data.key] ?? []), nodeName];
    await sleep(500);
  };
  const sender = await node(record('sender'), 8);
  await node(record('other'));
  const keys = Array.from({ length: 8 }, (_, index) => `here-${index}`);
  await withTransaction(database.pool, (tx) => writeAlongside(sender, tx, keys.slice(0, 4).map((key) => ({ key }))));
  for (const key of keys.slice(4)) await sender.send(name, { key }, { here: true });
  await waitUntil(() => keys.every((key) => runs[key]), 5_000, 'every job run');
  await sleep(2_500); // past the lease: a job left behind would now be fetched and run again
  assert.deepEqual(Object.fromEntries(keys.map((key) => [key, runs[key]])), Object.fromEntries(keys.map((key) => [key, ['sender']])));
  for (const key of keys) assert.equal(await jobRows(key), 0, `${key}: nothing left to fetch`);
});

test('a run sent here that fails is retried like a fetched job', async () => {
  let runs = 0;
  const sender = await node(async () => {
    runs += 1;
    if (runs === 1) throw new Error('the provider is down');
  });
  await sender.send(name, { key: 'retried' }, { here: true });
  await waitUntil(() => runs === 2, 10_000, 'the job run again after its failure');
  await sleep(300);
  assert.equal(runs, 2);
});

test("a job handed to a node that died before running it is run by another node once its lease runs out, once", async () => {
  let release: () => void = () => undefined;
  const busy = new Promise<void>((resolve) => (release = resolve));
  const otherRuns: number[] = [];
  // The dying node: its only slot is taken, so the job it is handed waits, and it stops before running it.
  const dying = await node((data) => (data.key === 'blocker' ? busy : Promise.resolve()), 1);
  await dying.send(name, { key: 'blocker' }, { here: true });
  const sentAtMs = Date.now();
  await dying.send(name, { key: 'orphan' }, { here: true });
  await node(async (data) => void (data.key === 'orphan' && otherRuns.push(Date.now())));
  const stopping = dying.stop(200);
  release();
  await stopping;
  await waitUntil(() => otherRuns.length > 0, 10_000, 'the orphan run by the other node');
  assert.ok(otherRuns[0] - sentAtMs >= 2_000 - 100, `run ${otherRuns[0] - sentAtMs} ms after it was sent: not before its lease ran out`);
  await sleep(500);
  assert.equal(otherRuns.length, 1);
});

test("a job written alongside another statement is the job pg-boss's own insert writes: retries, expiry, retention, policy", async () => {
  const queue = new JobQueue({ connectionString: database.connectionString, pollingIntervalSeconds: 60, expireInSeconds: 2, maintenanceIntervalSeconds: 60 });
  queues.push(queue);
  await queue.start();
  const [alongsideId] = await writeAlongside(queue, database.pool, [{ key: 'alongside' }], false);
  const ownId = await queue.boss.send(name, { key: 'own' });
  const columns = `priority, state, retry_limit, retry_count, retry_delay, retry_backoff, expire_in, singleton_key, dead_letter, policy,
    (keep_until - start_after) AS kept_for, start_after <= now() AS due`;
  const read = async (id: string | null) => (await database.pool.query(`SELECT ${columns} FROM pgboss.job WHERE id = $1`, [id])).rows[0];
  const [alongside, own] = [await read(alongsideId), await read(ownId)];
  assert.ok(alongside, 'the job written alongside exists');
  assert.deepEqual(alongside, own);
  assert.equal(alongside.retry_limit, 20, "the queue's own retry limit, not pg-boss's default");
});
