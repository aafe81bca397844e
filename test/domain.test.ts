import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fullSchedule, nextAttemptDelaySeconds, retryDelaySeconds } from '../src/callbacks/schedule.ts';
import { checkPaypalCurrency } from '../src/domain/currencies.ts';
import { convertMinor } from '../src/domain/fx.ts';
import { formatDecimal, parseDecimal } from '../src/domain/money.ts';
import { mayStart, paymentStatusAfter, paymentStatuses, operationTypes } from '../src/domain/statuses.ts';

describe('money', () => {
  test('minor units format and parse exactly, without floats', () => {
    assert.equal(formatDecimal(1050n, 2), '10.50');
    assert.equal(formatDecimal(5n, 2), '0.05');
    assert.equal(formatDecimal(1500n, 0), '1500');
    assert.equal(formatDecimal(900719925474099312n, 2), '9007199254740993.12');
    assert.equal(parseDecimal('10.5', 2), 1050n);
    assert.equal(parseDecimal('10.500', 2), 1050n);
    assert.throws(() => parseDecimal('10.505', 2));
    assert.throws(() => parseDecimal('1e3', 2));
    assert.throws(() => formatDecimal(-1n, 2));
  });

  test('FX conversion is exact and rounds half up', () => {
    const rates = new Map([['USD', '1'], ['EUR', '0.86'], ['JPY', '150'], ['HUF', '335']]);
    assert.equal(convertMinor(6_000_000n, 'USD', 'EUR', rates), 5_160_000n);
    assert.equal(convertMinor(5_160_000n, 'EUR', 'USD', rates), 6_000_000n);
    assert.equal(convertMinor(100n, 'USD', 'JPY', rates), 150n, '1.00 USD is 150 JPY (JPY has no minor unit)');
    assert.equal(convertMinor(335n, 'HUF', 'USD', rates), 100n, 'HUF amounts are whole forints');
    assert.equal(convertMinor(1n, 'EUR', 'USD', rates), 1n, '0.01 EUR = 0.0116 USD rounds to 0.01');
  });

  test('PayPal currency rules: listed only, BRL/INR/MYR in their country only', () => {
    assert.equal(checkPaypalCurrency('USD', undefined).ok, true);
    assert.deepEqual(checkPaypalCurrency('RUB', 'US'), { ok: false, reason: 'unsupported' });
    assert.deepEqual(checkPaypalCurrency('BRL', 'US'), { ok: false, reason: 'country' });
    assert.deepEqual(checkPaypalCurrency('INR', undefined), { ok: false, reason: 'country' });
    assert.equal(checkPaypalCurrency('MYR', 'MY').ok, true);
  });
});

describe('state machine', () => {
  test('capture and cancel only from awaiting capture; refund only after money moved', () => {
    for (const status of paymentStatuses) {
      assert.equal(mayStart('capture', status), status === 'awaiting capture', status);
      assert.equal(mayStart('cancel', status), status === 'awaiting capture', status);
      assert.equal(mayStart('refund', status), status === 'success' || status === 'partially refunded', status);
    }
  });

  test('the spec figures: declined capture/cancel stay awaiting capture, refunds pick refunded or partially refunded', () => {
    const amounts = { capturedMinor: 1000n, refundedMinor: 0n };
    assert.equal(paymentStatusAfter('capture', 'decline', 'processing', amounts), 'awaiting capture');
    assert.equal(paymentStatusAfter('cancel', 'decline', 'processing', amounts), 'awaiting capture');
    assert.equal(paymentStatusAfter('cancel', 'success', 'processing', amounts), 'canceled');
    assert.equal(paymentStatusAfter('refund', 'decline', 'success', amounts), 'success');
    assert.equal(paymentStatusAfter('refund', 'success', 'success', { capturedMinor: 1000n, refundedMinor: 300n }), 'partially refunded');
    assert.equal(paymentStatusAfter('refund', 'success', 'partially refunded', { capturedMinor: 1000n, refundedMinor: 1000n }), 'refunded');
    assert.equal(paymentStatusAfter('auth', 'success', 'processing', amounts), 'awaiting capture');
    assert.equal(paymentStatusAfter('sale', 'expired', 'processing', amounts), 'decline');
    for (const type of operationTypes) {
      for (const outcome of ['success', 'decline', 'error', 'expired'] as const) {
        assert.ok(paymentStatuses.includes(paymentStatusAfter(type, outcome, 'success', amounts)), `${type} ${outcome}`);
      }
    }
  });
});

describe('callback retry schedule', () => {
  test('6 retries 10 s apart, then 70 + 10 * 1.12^(n-4), capped at 4 h, at most 120 attempts within 11 days', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(retryDelaySeconds), [10, 10, 10, 10, 10, 10]);
    assert.equal(retryDelaySeconds(7), Math.round(70 + 10 * 1.12 ** 3));
    assert.equal(retryDelaySeconds(100), 4 * 3600);
    const schedule = fullSchedule();
    assert.equal(schedule.length, 120);
    assert.ok(schedule[schedule.length - 1] <= 11 * 24 * 3600);
    assert.equal(nextAttemptDelaySeconds(120, 0), null);
    assert.equal(nextAttemptDelaySeconds(50, 11 * 24 * 3600 - 5), null);
    for (let index = 1; index < schedule.length; index += 1) assert.ok(schedule[index] > schedule[index - 1]);
  });
});
