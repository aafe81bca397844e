import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { IntakePressure } from '../src/jobs/intake-pressure.ts';
import { SlotLoop } from '../src/jobs/slot-loop.ts';
import { saleBody, startTestPlatform } from './support/platform.ts';

/**
 * Merchant requests first: while many Gate requests are in flight on a node,
 * its background loops (provider jobs, callback deliveries) fill a floor of
 * their slots, and every slot comes back once the requests have stayed few
 * for a moment. These tests hold when the pressure starts and ends, that a
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
