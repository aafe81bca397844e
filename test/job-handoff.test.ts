import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobQueue, queueNames } from '../src/jobs/queue.ts';
import { withTransaction } from '../src/store/db.ts';
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
  await withTransaction(database.pool, (tx) => sender.sendMany(name, keys.slice(0, 4).map((key) => ({ key })), tx, { here: true }));
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
