import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { IntakePressure } from '../src/jobs/intake-pressure.ts';
import { SlotLoop } from '../src/jobs/slot-loop.ts';
import { saleBody, startTestPlatform } from './support/platform.ts';

/**
 * Merchant requests first: while many Gate requests are in flight on a node,
 * its background loops (provider jobs, callback deliveries) share a floor of
 * one slot, in turn, and every slot comes back once the requests have stayed
 * few for a moment. These tests hold when the pressure starts and ends, that a
 * loop under it starts only its floor and everything after it, and that a
 * platform's count of requests in flight returns to zero whatever the
 * requests' fate.
 */

function enter(pressure: IntakePressure, count: number): void {
  for (let i = 0; i < count; i += 1) pressure.enter();
}

function leave(pressure: IntakePressure, count: number): void {
  for (let i = 0; i < count; i += 1) pressure.leave();
}

test('pressure starts at the threshold and ends only after the requests stayed at a quarter of it for the hold', async () => {
  const pressure = new IntakePressure(8, 60);
  let reliefs = 0;
  pressure.onRelief(() => (reliefs += 1));

  enter(pressure, 7);
  assert.equal(pressure.high, false, 'below the threshold');
  pressure.enter();
  assert.equal(pressure.high, true, 'at the threshold');
  assert.equal(pressure.slotsFor(16), 1, 'a loop of 16 slots fills its floor');

  leave(pressure, 5); // 3 in flight: above the low watermark (2)
  await sleep(120);
  assert.equal(pressure.high, true, 'fewer than the threshold, but more than a quarter of it');

  pressure.leave(); // 2 in flight: the hold starts
  await sleep(20);
  pressure.enter(); // 3 again: a new request cancels the hold
  pressure.leave(); // 2: the hold starts over
  await sleep(40);
  assert.equal(pressure.high, true, 'the hold started over when a request arrived during it');
  assert.equal(reliefs, 0);
  await sleep(80);
  assert.equal(pressure.high, false, 'the requests stayed few for the hold');
  assert.equal(reliefs, 1, 'relief is announced once');
  assert.equal(pressure.slotsFor(16), 16, 'every slot is back');
  assert.equal(pressure.requestsInFlight, 2);
  const yielded = pressure.yieldedSeconds;
  assert.ok(yielded >= 0.18 && yielded < 1, `the pressure lasted from the 8th request to the end of the hold (${yielded} s)`);
  await sleep(30);
  assert.equal(pressure.yieldedSeconds, yielded, 'no time is counted once the pressure ended');
});

test('threshold 0 turns the priority off', () => {
  const pressure = new IntakePressure(0);
  enter(pressure, 500);
  assert.equal(pressure.high, false);
  assert.equal(pressure.slotsFor(16), 16);
  leave(pressure, 500);
  assert.equal(pressure.requestsInFlight, 0);
});

test('under pressure a loop starts one of its slots; the rest start when the pressure ends', async () => {
  const pressure = new IntakePressure(2, 30);
  enter(pressure, 2);
  const loop = new SlotLoop<number>(8, 60_000, pressure);
  const fetchSizes: number[] = [];
  const started: number[] = [];
  const release: Array<() => void> = [];
  const running = loop.run(
    async (count) => {
      fetchSizes.push(count);
      return [];
    },
    (item) => {
      started.push(item);
      return new Promise<void>((resolve) => release.push(resolve));
    },
  );
  for (let item = 1; item <= 8; item += 1) loop.offer(item);
  await sleep(50);
  assert.deepEqual(started, [1], 'one offered item runs under pressure, the oldest');
  assert.deepEqual(fetchSizes, [1], 'the fetch under pressure asked for the floor');

  leave(pressure, 2);
  await sleep(100);
  assert.deepEqual(started, [1, 2, 3, 4, 5, 6, 7, 8], 'every waiting item started once the pressure ended, in order');

  for (const resolve of release) resolve();
  loop.stop();
  await running;
});

test('under pressure the node\'s loops share one slot and take it in turn; each gets all its slots back when the pressure ends', async () => {
  const pressure = new IntakePressure(2, 30);
  enter(pressure, 2);
  let running = 0;
  let mostRunning = 0;
  const started: string[] = [];
  const release: Array<() => void> = [];
  const loops = ['execute', 'callbacks'].map((name) => {
    const loop = new SlotLoop<number>(8, 60_000, pressure);
    const done = loop.run(
      async () => [],
      (item) => {
        started.push(`${name}-${item}`);
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        return new Promise<void>((resolve) =>
          release.push(() => {
            running -= 1;
            resolve();
          }),
        );
      },
    );
    for (let item = 1; item <= 4; item += 1) loop.offer(item);
    return { loop, done };
  });
  try {
    await sleep(30);
    // Each item ends after a moment; the freed slot goes to the other loop, which waits for it.
    for (let turn = 0; turn < 5; turn += 1) {
      assert.equal(release.length, turn + 1, `one item running at turn ${turn}: ${started.join(', ')}`);
      release[turn]();
      await sleep(20);
    }
    assert.equal(mostRunning, 1, 'never more than one background item at a time on the node');
    const loopOf = (entry: string) => entry.split('-')[0];
    const turns = started.slice(0, 6);
    assert.ok(turns.every((entry, index) => index === 0 || loopOf(entry) !== loopOf(turns[index - 1])), `the loops take the slot in turn: ${turns.join(', ')}`);
    assert.deepEqual(turns.filter((entry) => loopOf(entry) === 'execute'), ['execute-1', 'execute-2', 'execute-3'], 'each loop in its own order');

    leave(pressure, 2);
    await sleep(100);
    assert.equal(started.length, 8, `every waiting item started once the pressure ended: ${started.join(', ')}`);
    assert.ok(mostRunning >= 2, 'several at once after the pressure');
  } finally {
    for (const resolve of release.slice(5)) resolve();
    for (const { loop, done } of loops) {
      loop.stop();
      await done;
    }
  }
});

test('a platform counts every Gate request out again, answered, refused or failed, and its callbacks go out meanwhile', async () => {
  const gh = await startTestPlatform({ intakePriorityRequests: 2 });
  try {
    let reliefs = 0;
    gh.platform.context.intake.onRelief(() => (reliefs += 1));
    const good = Array.from({ length: 12 }, (_, i) => `intake-${Date.now()}-${i}`);
    const answers = await Promise.all([
      ...good.map((paymentId) => gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId))),
      ...good.slice(0, 4).map((paymentId) => gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, `${paymentId}-bad`), { secret: 'wrong-secret' })),
      gh.gate('/v2/payment/wallet/paypal/sale', { general: { project_id: Number(gh.project.id) } }),
    ]);
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [...good.map(() => 200), 401, 401, 401, 401, 400],
    );
    assert.equal(gh.platform.context.intake.requestsInFlight, 0, 'no request is still counted');
    for (const paymentId of good) {
      await gh.waitForCallback((body) => body.payment?.id === paymentId && body.payment?.status === 'awaiting redirect result');
    }
    assert.equal(gh.platform.context.intake.high, false, 'the slots came back');
    assert.ok(reliefs >= 1, '17 concurrent requests pressed a threshold of 2, and it ended');
    const metrics = await (await fetch(`${gh.baseUrl}/metrics`)).text();
    const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    assert.equal(sample('gatehouse_gate_requests_in_flight'), 0);
    assert.equal(sample('gatehouse_background_yielding'), 0);
    assert.ok(sample('gatehouse_background_yield_seconds_total') >= 0.1, 'each pressure lasts at least its 100 ms hold, and /metrics shows it');
  } finally {
    await gh.stop();
  }
});
