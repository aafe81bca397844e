import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { signPaymentPageParams } from '../src/signature/index.ts';
import { contrastRatio, launchBrowser, newScenario, phoneViewport, screenshotBoth } from './support/browser.ts';
import { stopTestServer } from './support/database.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * A customer clicking through the hosted Payment Page in Chromium: approve,
 * cancel and decline at the PayPal sandbox, a pending capture, the waiting
 * page, a forced method in German on a phone, refusals, and a payment link.
 * Each scenario checks what the customer sees and the callbacks the merchant
 * gets, and saves desktop and phone screenshots of each page to
 * artifacts/screenshots/payment-page/. Several scenarios run with JavaScript
 * off: the core path must not need it.
 */
const require = createRequire(import.meta.url);
const ecommpay = require('ecommpay') as {
  Payment: new (projectId: string, secret: string, settings?: object, baseUrl?: string) => Record<string, unknown> & { getUrl(): string };
  Callback: new (secret: string, data: unknown) => { getPaymentId(): string };
};

let gh: TestPlatform;
let browser: Browser;
let sequence = 0;
const nextPaymentId = (label: string) => `browser-${label}-${Date.now().toString(36)}-${++sequence}`;

before(async () => {
  // A pending capture (amount ending 02) stays pending long enough to be seen.
  [gh, browser] = await Promise.all([startTestPlatform({ sandboxPendingCompletionDelayMs: 3_000 }), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await gh?.stop();
  await stopTestServer();
});

function pageUrl(paymentId: string, extra: Record<string, string> = {}): string {
  const params = {
    project_id: String(gh.project.id),
    payment_id: paymentId,
    payment_amount: '1000',
    payment_currency: 'USD',
    customer_id: 'customer-42',
    payment_description: 'Concert tickets',
    ...extra,
  };
  return `${gh.baseUrl}/payment?${new URLSearchParams(signPaymentPageParams(params, gh.project.secretKey))}`;
}

/** The merchant's callbacks for a payment: intermediate (9999) then final, each verified with the ecommpay SDK. */
async function merchantCallbacks(paymentId: string) {
  const intermediate = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.code === '9999');
  const final = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.code !== '9999');
  for (const body of [intermediate, final]) {
    assert.equal(new ecommpay.Callback(gh.project.secretKey, JSON.parse(JSON.stringify(body))).getPaymentId(), paymentId);
  }
  return { intermediate, final };
}

async function heading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { name, level: 1 }).waitFor({ timeout: 20_000 });
}

async function countRows(paymentId: string): Promise<{ sessions: number; payments: number }> {
  const { rows } = await gh.database.pool.query(
    `SELECT (SELECT count(*) FROM payment_page_sessions WHERE payment_id = $1)::int AS sessions,
            (SELECT count(*) FROM payments WHERE payment_id = $1)::int AS payments`,
    [paymentId],
  );
  return rows[0];
}

async function approveAtPaypal(page: Page): Promise<void> {
  await page.waitForURL(/\/sandbox\/paypal\/checkoutnow\?token=/);
  await page.getByRole('button', { name: /^Pay / }).click();
  await page.waitForURL(/\/payment\/result\//);
}

describe('the Payment Page in a browser', () => {
  test('approve at PayPal (URL from the ecommpay SDK): method list, PayPal, success, link to the shop; reopening makes nothing new', async () => {
    const { context, page, cspViolations } = await newScenario(browser);
    const paymentId = nextPaymentId('approve');
    const sdk = new ecommpay.Payment(String(gh.project.id), gh.project.secretKey, {}, gh.baseUrl);
    Object.assign(sdk, { paymentId, paymentAmount: 1000, paymentCurrency: 'USD', customerId: 'customer-42', paymentDescription: 'Concert tickets' });
    sdk.redirectSuccessUrl = 'https://shop.example/thanks';
    sdk.redirectFailUrl = 'https://shop.example/sorry';
    const url = sdk.getUrl();

    const response = await page.goto(url);
    assert.equal(response?.status(), 200);
    await heading(page, '$10.00');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.getByText('Concert tickets').waitFor();
    await page.getByText('Test mode: no real money moves.').waitFor();

    // Keyboard: the first stop is the PayPal method, with a visible focus ring.
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => {
      const active = document.activeElement as HTMLElement;
      const style = getComputedStyle(active);
      return { isMethod: active.matches('button.method'), outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) };
    });
    assert.deepEqual([focus.isMethod, focus.outlineStyle], [true, 'solid']);
    assert.ok(focus.outlineWidth >= 2);
    for (const selector of ['header p', 'h1', 'dt', 'dd', '.method strong', '.method span', '.test-mode', 'footer p']) {
      const ratio = await contrastRatio(page, selector);
      assert.ok(ratio >= 4.5, `${selector} contrast ${ratio.toFixed(2)} < 4.5`);
    }
    const choose = await screenshotBoth(page, 'choose');
    assert.equal(choose.phoneOverflowPx, 0, 'no sideways scrolling on a phone');

    await page.getByRole('button', { name: /PayPal/ }).click();
    await page.waitForURL(/\/sandbox\/paypal\/checkoutnow\?token=/);
    await screenshotBoth(page, 'paypal-approval');
    await approveAtPaypal(page);
    await heading(page, 'Payment successful');
    await page.getByText('Thank you. Your payment of $10.00 has been received.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Return to the shop' }).getAttribute('href'), 'https://shop.example/thanks');
    await screenshotBoth(page, 'result-success');

    const { intermediate, final } = await merchantCallbacks(paymentId);
    assert.equal(intermediate.payment.status, 'awaiting redirect result');
    assert.match(intermediate.redirect_data.url, /\/sandbox\/paypal\/checkoutnow\?token=/);
    assert.match(intermediate.operation.provider.payment_id, /^[A-Z0-9]{17}$/, 'the PayPal order id, as in Gate');
    assert.equal(final.payment.status, 'success');
    assert.equal(final.operation.type, 'sale');
    assert.equal(final.operation.code, '0');

    await page.goto(url);
    await heading(page, 'Payment successful');
    assert.deepEqual(await countRows(paymentId), { sessions: 1, payments: 1 });
    assert.equal(gh.callbacksFor(paymentId).length, 2);
    assert.deepEqual(cspViolations, []);
    await context.close();
  });

  test('without JavaScript: the waiting page refreshes itself to PayPal (order creation retried after a 503); reopening offers PayPal again', async () => {
    const { context, page, cspViolations } = await newScenario(browser, { javaScriptEnabled: false });
    const paymentId = nextPaymentId('waiting');
    const url = pageUrl(paymentId, { payment_amount: '1009' });
    await page.goto(url);
    await page.getByRole('button', { name: /PayPal/ }).click();
    await heading(page, 'Connecting to PayPal');
    await screenshotBoth(page, 'waiting').catch(() => undefined); // the page may refresh away while it is captured
    await page.waitForURL(/\/sandbox\/paypal\/checkoutnow\?token=/, { timeout: 20_000 });

    await page.goto(url);
    await heading(page, 'Approve your payment at PayPal');
    await screenshotBoth(page, 'awaiting-approval');
    await page.getByRole('link', { name: 'Continue to PayPal' }).click();
    await approveAtPaypal(page);
    await heading(page, 'Payment successful');
    const { final } = await merchantCallbacks(paymentId);
    assert.equal(final.payment.status, 'success');
    assert.deepEqual(await countRows(paymentId), { sessions: 1, payments: 1 });
    assert.deepEqual(cspViolations, []);
    await context.close();
  });

  test('cancel at PayPal (no JavaScript): "not completed", the reason, the shop fail URL; decline callback', async () => {
    const { context, page } = await newScenario(browser, { javaScriptEnabled: false });
    const paymentId = nextPaymentId('cancel');
    await page.goto(pageUrl(paymentId, { redirect_fail_url: 'https://shop.example/sorry' }));
    await page.getByRole('button', { name: /PayPal/ }).click();
    await page.waitForURL(/\/sandbox\/paypal\/checkoutnow\?token=/);
    await page.getByRole('button', { name: 'Cancel and return to merchant' }).click();
    await page.waitForURL(/\/payment\/result\//);
    await heading(page, 'Payment not completed');
    await page.getByText('You cancelled the payment at PayPal. No money was taken.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Return to the shop' }).getAttribute('href'), 'https://shop.example/sorry');
    await screenshotBoth(page, 'result-cancelled');
    const { final } = await merchantCallbacks(paymentId);
    assert.equal(final.payment.status, 'decline');
    assert.equal(final.operation.code, '20105');
    await context.close();
  });

  test('declined by PayPal (amount ending 01, no JavaScript): decline page and the General decline callback', async () => {
    const { context, page } = await newScenario(browser, { javaScriptEnabled: false });
    const paymentId = nextPaymentId('decline');
    await page.goto(pageUrl(paymentId, { payment_amount: '1001' }));
    await page.getByRole('button', { name: /PayPal/ }).click();
    await approveAtPaypal(page);
    await heading(page, 'Payment not completed');
    await page.getByText('PayPal declined the payment. No money was taken.').waitFor();
    await screenshotBoth(page, 'result-declined');
    const { final } = await merchantCallbacks(paymentId);
    assert.equal(final.payment.status, 'decline');
    assert.equal(final.operation.code, '20000');
    assert.equal(final.operation.message, 'General decline');
    await context.close();
  });

  test('a pending capture (amount ending 02): "being processed", then success by itself', async () => {
    const { context, page } = await newScenario(browser, { javaScriptEnabled: false });
    const paymentId = nextPaymentId('pending');
    await page.goto(pageUrl(paymentId, { payment_amount: '1002' }));
    await page.getByRole('button', { name: /PayPal/ }).click();
    await approveAtPaypal(page);
    await heading(page, 'Your payment is being processed');
    await screenshotBoth(page, 'result-pending').catch(() => undefined); // refreshes itself every 2 s
    await heading(page, 'Payment successful');
    const { final } = await merchantCallbacks(paymentId);
    assert.equal(final.payment.status, 'success');
    await context.close();
  });

  test('force_payment_method=paypal-wallet in German on a phone: PayPal selected, no method list', async () => {
    const { context, page, cspViolations } = await newScenario(browser);
    await page.setViewportSize(phoneViewport);
    const paymentId = nextPaymentId('forced');
    await page.goto(pageUrl(paymentId, { force_payment_method: 'paypal-wallet', language_code: 'de' }));
    assert.equal(await page.getAttribute('html', 'lang'), 'de');
    await heading(page, '10,00 $');
    assert.equal(await page.getByRole('heading', { name: 'Zahlungsart wählen' }).count(), 0);
    const button = page.getByRole('button', { name: 'Mit PayPal 10,00 $ bezahlen' });
    await button.waitFor();
    assert.ok((await contrastRatio(page, 'button.primary')) >= 4.5);
    const shot = await screenshotBoth(page, 'forced-de');
    assert.equal(shot.phoneOverflowPx, 0);
    await button.click();
    await page.waitForURL(/\/sandbox\/paypal\/checkoutnow\?token=/);
    const intermediate = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.code === '9999');
    assert.equal(intermediate.payment.status, 'awaiting redirect result');
    assert.deepEqual(cspViolations, []);
    await context.close();
  });

  test('refusals: a tampered URL, an expired best_before, an expired payment link: error page, nothing created, no callback', async () => {
    const { context, page } = await newScenario(browser, { javaScriptEnabled: false });
    const tamperedId = nextPaymentId('tampered');
    const tampered = await page.goto(pageUrl(tamperedId).replace('payment_amount=1000', 'payment_amount=10'));
    assert.equal(tampered?.status(), 403);
    await heading(page, 'This payment cannot be opened');
    await page.getByText('The payment link was changed or is not signed correctly.', { exact: false }).waitFor();
    await screenshotBoth(page, 'error-tampered');

    const expiredId = nextPaymentId('expired');
    const expired = await page.goto(pageUrl(expiredId, { best_before: new Date(Date.now() - 1_000).toISOString(), language_code: 'es' }));
    assert.equal(expired?.status(), 410);
    await heading(page, 'No se puede abrir este pago');
    await page.getByText('Este enlace de pago ha caducado.', { exact: false }).waitFor();
    await screenshotBoth(page, 'error-expired');

    const link = await gh.gate('/v2/payment-links', {
      general: { project_id: Number(gh.project.id) },
      link: { amount: 1500, currency: 'USD', description: 'Late invoice', single_use: true, expires_at: new Date(Date.now() + 500).toISOString() },
    });
    assert.equal(link.status, 200, JSON.stringify(link.json));
    await new Promise((resolve) => setTimeout(resolve, 600));
    const expiredLink = await page.goto(link.json.url);
    assert.equal(expiredLink?.status(), 410);
    await heading(page, 'This payment cannot be opened');
    await screenshotBoth(page, 'link-expired');

    for (const paymentId of [tamperedId, expiredId]) {
      assert.deepEqual(await countRows(paymentId), { sessions: 0, payments: 0 });
      assert.deepEqual(gh.callbacksFor(paymentId), []);
    }
    await context.close();
  });

  test('a payment link: pay it, the merchant sees it paid, reopening says already paid', async () => {
    const { context, page, cspViolations } = await newScenario(browser);
    const created = await gh.gate('/v2/payment-links', {
      general: { project_id: Number(gh.project.id) },
      link: { amount: 4200, currency: 'EUR', description: 'Invoice 2024-117', single_use: true },
    });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const linkId = created.json.link_id as string;
    await page.goto(`${created.json.url}?language_code=de`);
    await heading(page, '42,00 €');
    await page.getByText('Invoice 2024-117').waitFor();
    await screenshotBoth(page, 'link');
    await page.getByRole('button', { name: /PayPal/ }).click();
    await approveAtPaypal(page);
    await heading(page, 'Zahlung erfolgreich');
    const { final } = await merchantCallbacks(`link-${linkId}-1`);
    assert.equal(final.payment.status, 'success');
    assert.deepEqual(final.payment.sum, { amount: 4200, currency: 'EUR' });

    const status = await gh.gate('/v2/payment-links/status', { general: { project_id: Number(gh.project.id) }, link: { id: linkId } });
    assert.equal(status.json.link.status, 'paid');

    await page.goto(created.json.url);
    await heading(page, 'Already paid');
    await screenshotBoth(page, 'link-paid');
    assert.deepEqual(cspViolations, []);
    await context.close();
  });
});
