import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stopTestServer } from './support/database.ts';
import { fuzzHttpSurface } from './support/fuzz.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * Bad input gets a clear error and changes nothing: 1,500 seeded malformed
 * requests (the long run, `npm run test:reliability -- --long`, sends 100,000).
 * Replay a failure with FUZZ_SEED=<seed printed below>.
 */
const seed = Number(process.env.FUZZ_SEED ?? 20261123);
let gh: TestPlatform;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  gh = await startTestPlatform({ rateLimitPerMinute: 100_000_000 });
});
after(async () => {
  process.off('unhandledRejection', onUnhandled);
  await gh?.stop();
  await stopTestServer();
});

test(`1,500 malformed requests (seed ${seed}): no 5xx, every answer documented, nothing written for rejections`, async () => {
  const figures = await fuzzHttpSurface(gh, { runs: 1_500, seed });
  console.log(`fuzz: requests=${figures.requests} server_errors=${figures.serverErrors} undocumented=${figures.undocumented} accepted=${figures.accepted} payments_written=${figures.paymentsWritten} seed=${seed}`);
  assert.deepEqual(figures.failures.slice(0, 5), []);
  assert.equal(figures.serverErrors, 0);
  assert.equal(figures.undocumented, 0);
  assert.ok(figures.paymentsWritten <= figures.accepted, 'only accepted requests wrote payments');
  assert.deepEqual(unhandled, []);
});

test('a 10 MB body is refused with 413 / 2006 before it is read whole', async () => {
  const response = await fetch(`${gh.baseUrl}/v2/payment/wallet/paypal/sale`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`,
  });
  assert.equal(response.status, 413);
  assert.equal((await response.json()).code, '2006');
});
