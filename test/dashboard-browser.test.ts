import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import Fastify from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createMerchant, createMerchantProject } from '../src/accounts/merchants.ts';
import { sweepPciReminders } from '../src/notifications/sweep.ts';
import { createUser } from '../src/accounts/users.ts';
import { dashboardContentSecurityPolicy, dashboardUiRoutes, defaultDistDirectory } from '../src/dashboard-ui/index.ts';
import type { Project } from '../src/store/projects.ts';
import { contrastRatio, desktopViewport, launchBrowser, newScenario, phoneViewport } from './support/browser.ts';
import { stopTestServer } from './support/database.ts';
import { actAtApprovalPage, authBody, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * The Dashboard (React, served at /dashboard) in Chromium against a whole
 * Gatehouse node on real PostgreSQL: a merchant admin signs in, finds a
 * payment made through Gate and approved at the PayPal sandbox, refunds part
 * of it and sees the refund in the timeline, resends a callback, downloads a
 * report and compares it with the database, rotates the secret key, and
 * uploads a 1,000-row payout CSV with 3 bad rows (exactly those rejected,
 * the rest sent with a progress bar, per-row results downloaded). An operator
 * records a PCI DSS document, moves a PayPal onboarding, sets a production project's PayPal credentials, edits a project's fees and sets an FX rate.
 * Every main screen is saved at desktop (1280x800) and phone (390x844) width
 * to artifacts/screenshots/dashboard/, and must not scroll sideways on a
 * phone; no page may break the CSP.
 */
const screenshotDirectory = join(process.cwd(), 'artifacts', 'screenshots', 'dashboard');
const password = 'correct horse battery staple';
const adminEmail = 'admin@shop.example';
const operatorEmail = 'ops@gatehouse.example';

let gh: TestPlatform;
let browser: Browser;
let shop: Project;
let payoutsProject: Project;
let liveProject: Project;
let merchantId: bigint;
let admin: { context: BrowserContext; page: Page; cspViolations: string[] };
const run = Date.now().toString(36);
const refundedPaymentId = `order-${run}-1`;
const heldPaymentId = `hold-${run}-1`;
const phoneOverflows: Record<string, number> = {};

before(async () => {
  if (!existsSync(join(defaultDistDirectory, 'index.html'))) {
    throw new Error('dashboard-ui/dist/ is missing: run `npm run build:dashboard` (npm install / npm ci run it through `prepare`)');
  }
  [gh, browser] = await Promise.all([startTestPlatform(), launchBrowser()]);
  const pool = gh.platform.context.pool;
  const merchant = await createMerchant(pool, 'Shop Ltd');
  merchantId = merchant.id;
  shop = await createMerchantProject(pool, merchant.id, { name: 'Web shop', mode: 'test', callbackUrl: gh.receiver.url });
  // No callback URL: the 997 payouts' callbacks are stored but not sent, to keep the machine free for the browser.
  payoutsProject = await createMerchantProject(pool, merchant.id, { name: 'Prize payouts', mode: 'test', callbackUrl: null });
  liveProject = await createMerchantProject(pool, merchant.id, { name: 'Shop live', mode: 'production', callbackUrl: null });
  await createUser(pool, { email: adminEmail, role: 'merchant_admin', merchantId: merchant.id, password });
  await createUser(pool, { email: 'viewer@shop.example', role: 'merchant_viewer', merchantId: merchant.id, password });
  await createUser(pool, { email: operatorEmail, role: 'operator', merchantId: null, password });
  // Payments made the way merchants make them: Gate requests, approved (or not) at the sandbox's approval page.
  await Promise.all([
    paidThroughGate('/v2/payment/wallet/paypal/sale', saleBody(shop.id, refundedPaymentId, 15_000, 'USD')),
    paidThroughGate('/v2/payment/wallet/paypal/sale', saleBody(shop.id, `order-${run}-2`, 4_200, 'EUR')),
    paidThroughGate('/v2/payment/wallet/paypal/sale', saleBody(shop.id, `order-${run}-declined`, 1_001, 'USD')),
    paidThroughGate('/v2/payment/wallet/paypal/auth', authBody(shop.id, heldPaymentId, 2_500, 'USD')),
  ]);
  admin = await newScenario(browser);
});

after(async () => {
  await browser?.close();
  await gh?.stop();
  await stopTestServer();
});

async function paidThroughGate(path: string, body: Record<string, any>): Promise<Record<string, any>> {
  const paymentId = body.general.payment_id as string;
  const started = await gh.gate(path, body, { secret: shop.secretKey });
  assert.equal(started.status, 200, JSON.stringify(started.json));
  const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
  await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
  return gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code !== '9999');
}

/** Desktop and phone screenshots of the current page, full height; records sideways overflow at phone width. */
async function screens(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDirectory, { recursive: true });
  await page.setViewportSize(desktopViewport);
  await settle(page);
  await page.screenshot({ path: join(screenshotDirectory, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(phoneViewport);
  await settle(page);
  phoneOverflows[name] = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (phoneOverflows[name] > 0) {
    const wide = await page.evaluate(() =>
      Array.from(document.querySelectorAll('body *'))
        .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5)
        .slice(0, 5)
        .map((element) => `${element.tagName.toLowerCase()}.${String(element.className)} right=${Math.round(element.getBoundingClientRect().right)}`),
    );
    console.log(`${name}: wider than a phone by ${phoneOverflows[name]} px: ${wide.join('; ')}`);
  }
  await page.screenshot({ path: join(screenshotDirectory, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(desktopViewport);
  await settle(page);
}

/** Lets charts follow a resize and loading notes disappear. */
async function settle(page: Page): Promise<void> {
  await page.waitForFunction(() => !document.querySelector('.loading'), undefined, { timeout: 10_000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await sleep(200);
}

async function heading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name }).waitFor({ timeout: 15_000 });
}

async function navigate(page: Page, linkName: string, headingName: string | RegExp): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: linkName, exact: true }).click();
  await heading(page, headingName);
}

async function signIn(page: Page, email: string): Promise<void> {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('the Dashboard in a browser', () => {
  test('is served at /dashboard with a strict CSP; /dashboard/api stays the API; a missing build answers 503', async () => {
    const page = await fetch(`${gh.baseUrl}/dashboard/payments?status=success`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(page.headers.get('content-security-policy'), dashboardContentSecurityPolicy);
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    const script = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'the entry script is an asset');
    const asset = await fetch(`${gh.baseUrl}${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    await asset.arrayBuffer();

    const api = await fetch(`${gh.baseUrl}/dashboard/api/session`);
    assert.equal(api.status, 401);
    assert.equal((await api.json()).code, '7001');
    const unknownApi = await fetch(`${gh.baseUrl}/dashboard/api/no-such-route`);
    assert.equal(unknownApi.status, 404);
    assert.match(unknownApi.headers.get('content-type') ?? '', /json/);
    const traversal = await fetch(`${gh.baseUrl}/dashboard/assets/..%2f..%2fpackage.json`);
    assert.notEqual(traversal.status, 200);

    const bare = Fastify();
    await bare.register(dashboardUiRoutes, { distDirectory: '/nonexistent-dashboard-build' });
    const missing = await bare.inject({ method: 'GET', url: '/dashboard/payments' });
    assert.equal(missing.statusCode, 503);
    assert.match(missing.body, /npm run build:dashboard/);
    assert.match(String(missing.headers['content-security-policy']), /default-src 'none'/);
    await bare.close();
  });

  test('sign in, overview with balances and charts', async () => {
    const { page } = admin;
    await page.goto(`${gh.baseUrl}/dashboard`);
    await heading(page, 'Sign in to the Dashboard');
    assert.match(page.url(), /\/dashboard\/sign-in$/);
    await screens(page, 'sign-in');

    await page.getByLabel('Email', { exact: true }).fill(adminEmail);
    await page.getByLabel('Password', { exact: true }).fill('wrong password here');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid email or password' }).waitFor();

    await signIn(page, adminEmail);
    await heading(page, 'Overview');
    // Keyboard: the first Tab stop is the skip link, with a visible focus ring; it leads to the content.
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => {
      const active = document.activeElement as HTMLElement;
      const style = getComputedStyle(active);
      return { text: active.textContent, outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    assert.deepEqual([focus.text, focus.outline], ['Skip to content', 'solid']);
    assert.ok(focus.width >= 2);
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    await page.getByText('Successful volume per day, USD').waitFor();
    await page.locator('.recharts-bar-rectangle').first().waitFor();
    // The approval rate over 3 purchases and 1 hold: the declined one shows.
    await page.getByText('Show data').nth(1).click();
    await page.getByRole('cell', { name: /^75\.0%$/ }).waitFor();
    await screens(page, 'overview');
  });

  test('find a payment made through Gate, refund part of it and see the refund operation appear', async () => {
    const { page } = admin;
    await navigate(page, 'Payments', 'Payments');
    await page.getByRole('link', { name: refundedPaymentId }).waitFor();
    for (const selector of ['.lead', '.sidenav a', '.sidenav a.active', 'thead th', '.hint', '.result-count', '.badge-good', '.badge-bad', '.badge-warn', 'td .mono']) {
      const ratio = await contrastRatio(page, selector);
      assert.ok(ratio >= 4.5, `${selector} contrast ${ratio.toFixed(2)} < 4.5`);
    }
    await screens(page, 'payments');

    await page.getByLabel('Search', { exact: true }).fill(refundedPaymentId);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Page 1: 1 payment', { exact: true }).waitFor();
    assert.match(page.url(), new RegExp(`q=${refundedPaymentId}`));
    await page.getByRole('link', { name: refundedPaymentId }).click();
    await heading(page, `Payment ${refundedPaymentId}`);
    await page.locator('[data-operation-type="sale"][data-operation-status="success"]').waitFor();

    await page.getByLabel('Refund amount (USD)', { exact: true }).fill('40.005');
    await page.getByRole('button', { name: 'Refund…' }).click();
    await page.getByText('Enter an amount like 10.50 (at most 2 decimals).').waitFor();
    await page.getByLabel('Refund amount (USD)', { exact: true }).fill('40.00');
    // Escape closes the confirmation and gives focus back to the button that opened it.
    await page.getByRole('button', { name: 'Refund…' }).click();
    await page.getByRole('alertdialog', { name: 'Refund this payment?' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.activeElement?.textContent === 'Refund…', undefined, { timeout: 5_000 });
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('alertdialog', { name: 'Refund this payment?' });
    await dialog.getByText('40.00 USD').waitFor();
    await screens(page, 'refund-confirmation');
    await dialog.getByRole('button', { name: 'Refund', exact: true }).click();
    await page.getByText(/Refund of 40\.00 USD accepted/).waitFor();
    await page.locator('[data-operation-type="refund"][data-operation-status="success"]').waitFor({ timeout: 20_000 });
    await page.getByRole('heading', { level: 1, name: `Payment ${refundedPaymentId}` }).waitFor();
    await page.getByText('Partially refunded').first().waitFor();

    const { rows } = await gh.platform.context.pool.query<{ status: string; refunded_minor: string }>(
      'SELECT status, refunded_minor::text AS refunded_minor FROM payments WHERE project_id = $1 AND payment_id = $2',
      [String(shop.id), refundedPaymentId],
    );
    assert.deepEqual(rows[0], { status: 'partially refunded', refunded_minor: '4000' });
    const refundCallback = await gh.waitForCallback((body) => body.payment.id === refundedPaymentId && body.operation.type === 'refund');
    assert.equal(refundCallback.operation.sum_initial.amount, 4000);
    await screens(page, 'payment-detail');
  });

  test('resend a callback: one more delivery attempt, and the receiver gets it again', async () => {
    const { page } = admin;
    const first = page.locator('li.callback').first();
    const callbackId = await first.getAttribute('data-callback-id');
    const attemptsBefore = Number(/^(\d+)/.exec((await first.getByTestId('attempt-count').textContent()) ?? '')?.[1]);
    const receivedBefore = gh.callbacksFor(refundedPaymentId).length;
    await first.getByRole('button', { name: 'Resend' }).click();
    await page.getByText(`Callback #${callbackId} is being sent again.`).waitFor();
    await first.getByTestId('attempt-count').filter({ hasText: `${attemptsBefore + 1} attempt` }).waitFor({ timeout: 15_000 });
    await first.getByText(/^Delivery attempts/).click();
    await first.getByRole('row').filter({ hasText: '200' }).nth(attemptsBefore).waitFor();
    for (let tries = 0; tries < 100 && gh.callbacksFor(refundedPaymentId).length <= receivedBefore; tries += 1) await sleep(50);
    assert.equal(gh.callbacksFor(refundedPaymentId).length, receivedBefore + 1, 'the receiver got the callback once more');
  });

  test('capture a hold from its payment page', async () => {
    const { page } = admin;
    await page.goto(`${gh.baseUrl}/dashboard/payments/${shop.id}/payment?id=${encodeURIComponent(heldPaymentId)}`);
    await heading(page, `Payment ${heldPaymentId}`);
    await page.getByText('Awaiting capture').first().waitFor();
    await page.getByRole('button', { name: 'Capture', exact: true }).click();
    await page.getByRole('alertdialog', { name: 'Capture this payment?' }).getByRole('button', { name: 'Capture', exact: true }).click();
    await page.locator('[data-operation-type="capture"][data-operation-status="success"]').waitFor({ timeout: 20_000 });
    await gh.waitForCallback((body) => body.payment.id === heldPaymentId && body.operation.type === 'capture');
  });

  test('download a one-time report and compare it with the database', async () => {
    const { page } = admin;
    await navigate(page, 'Reports', 'Reports');
    await page.getByLabel('Content', { exact: true }).first().selectOption('payments');
    await page.getByRole('button', { name: 'Generate report' }).click();
    const link = page.getByTestId('new-report-download');
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const records = parse(csv, { columns: true }) as Record<string, string>[];

    const from = (await page.getByLabel('From', { exact: true }).inputValue()) + 'T00:00:00Z';
    const { rows } = await gh.platform.context.pool.query<Record<string, string>>(
      `SELECT p.project_id::text AS project_id, p.payment_id, p.type, p.status, trim(p.currency) AS currency, p.amount_minor::text AS amount_minor,
              p.captured_minor::text AS captured_minor, p.refunded_minor::text AS refunded_minor
         FROM payments p JOIN projects pr ON pr.id = p.project_id
        WHERE pr.merchant_id = $1 AND p.created_at >= $2 ORDER BY p.project_id, p.payment_id`,
      [String(merchantId), from],
    );
    const columns = ['project_id', 'payment_id', 'type', 'status', 'currency', 'amount_minor', 'captured_minor', 'refunded_minor'];
    const fromCsv = records
      .map((record) => Object.fromEntries(columns.map((column) => [column, record[column]])))
      .sort((a, b) => a.project_id.localeCompare(b.project_id) || a.payment_id.localeCompare(b.payment_id));
    assert.equal(rows.length, 4);
    assert.deepEqual(fromCsv, rows);
    assert.ok(fromCsv.some((row) => row.payment_id === refundedPaymentId && row.refunded_minor === '4000' && row.status === 'partially refunded'));

    await page.getByLabel('Every', { exact: true }).selectOption('weekly');
    await page.getByRole('button', { name: 'Add schedule' }).click();
    await page.getByRole('cell', { name: 'Week', exact: true }).waitFor();
    await screens(page, 'reports');
  });

  test('rotate the secret key: the new key is shown once and works, the old one keeps working during the overlap', async () => {
    const { page } = admin;
    await navigate(page, 'Project settings', 'Project settings');
    await page.getByRole('combobox', { name: 'Project', exact: true }).selectOption(String(shop.id));
    await page.getByLabel('Callback URL', { exact: true }).waitFor();
    assert.equal(await page.getByLabel('Callback URL', { exact: true }).inputValue(), gh.receiver.url);
    await screens(page, 'settings');
    await page.getByLabel('Keep the old key working for', { exact: true }).selectOption('3600');
    await page.getByRole('button', { name: 'Rotate secret key…' }).click();
    await page.getByRole('alertdialog', { name: 'Rotate the secret key?' }).getByRole('button', { name: 'Rotate key' }).click();
    const secretField = page.getByTestId('secret-value');
    await secretField.waitFor();
    const newKey = await secretField.inputValue();
    assert.ok(newKey.length >= 32 && newKey !== shop.secretKey);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByText(/The previous key still works until/).waitFor();

    const status = (secret: string) => gh.gate('/v2/payment/status', { general: { project_id: Number(shop.id), payment_id: refundedPaymentId } }, { secret });
    assert.equal((await status(newKey)).status, 200, 'the new key signs');
    assert.equal((await status(shop.secretKey)).status, 200, 'the old key still signs during the overlap');
    const { rows } = await gh.platform.context.pool.query<{ secret_key: string; overlap_seconds: number }>(
      `SELECT secret_key, round(extract(epoch FROM previous_secret_until - now()))::int AS overlap_seconds FROM projects WHERE id = $1`,
      [String(shop.id)],
    );
    assert.equal(rows[0].secret_key, newKey);
    assert.ok(rows[0].overlap_seconds > 3_500 && rows[0].overlap_seconds <= 3_600);
    // The key is nowhere in the page any more.
    assert.ok(!(await page.content()).includes(newKey));
  });

  test('a 1,000-row payout CSV with 3 bad rows: exactly those rejected, the rest sent with a progress bar, results downloaded', async () => {
    const { page } = admin;
    await navigate(page, 'Payouts', 'Payouts');
    await screens(page, 'payouts');
    // A single payout from the form (to the shop project, so the mass payout project stays empty until its file is sent).
    await page.getByLabel('Project', { exact: true }).selectOption(String(shop.id));
    const payoutId = await page.getByLabel('Payment ID', { exact: true }).inputValue();
    await page.getByLabel('Amount', { exact: true }).fill('12.50');
    await page.getByLabel("Receiver's PayPal account", { exact: true }).fill('winner@example.com');
    await page.getByLabel('Customer ID', { exact: true }).fill('customer-77');
    await page.getByRole('button', { name: 'Review payout…' }).click();
    await page.getByRole('alertdialog', { name: 'Send this payout?' }).getByRole('button', { name: 'Send payout' }).click();
    await page.getByRole('link', { name: `Follow payout ${payoutId}` }).waitFor();
    const { rows: payout } = await gh.platform.context.pool.query<{ type: string; amount_minor: string; account_number: string }>(
      'SELECT type, amount_minor::text AS amount_minor, account_number FROM payments WHERE project_id = $1 AND payment_id = $2',
      [String(shop.id), payoutId],
    );
    assert.deepEqual(payout[0], { type: 'payout', amount_minor: '1250', account_number: 'winner@example.com' });
    await navigate(page, 'Mass payouts', 'Mass payouts');
    await page.getByLabel('Project', { exact: true }).selectOption(String(payoutsProject.id));
    const badRows = new Map<number, string>([
      [17, 'currency'],
      [500, 'amount'],
      [999, 'account_number'],
    ]);
    const lines = ['payment_id,amount,currency,account_number,customer_id,description'];
    for (let row = 1; row <= 1000; row += 1) {
      const currency = badRows.get(row) === 'currency' ? 'RUB' : row % 3 === 0 ? 'EUR' : 'USD';
      const amount = badRows.get(row) === 'amount' ? '12.345' : `${10 + (row % 50)}.${row % 2 === 0 ? '50' : '00'}`;
      const account = badRows.get(row) === 'account_number' ? '' : `payee-${row}@example.com`;
      lines.push(`prize-${run}-${row},${amount},${currency},${account},customer-${row},"Prize, round ${row}"`);
    }
    await page.getByLabel('CSV file', { exact: true }).setInputFiles({ name: 'prizes.csv', mimeType: 'text/csv', buffer: Buffer.from(`${lines.join('\n')}\n`) });
    await page.getByRole('button', { name: 'Check file' }).click();
    await heading(page, 'Mass payout: prizes.csv');
    assert.equal(await page.getByTestId('rows-total').textContent(), '1000');
    assert.equal(await page.getByTestId('rows-valid').textContent(), '997');
    assert.equal(await page.getByTestId('rows-rejected').textContent(), '3');
    const rejected = await page.getByTestId('rejected-rows').locator('tbody tr td:first-child').allTextContents();
    assert.deepEqual(rejected.map(Number), [17, 500, 999]);
    await page.getByTestId('rejected-rows').getByText(/^3025/).waitFor();
    const { rows: none } = await gh.platform.context.pool.query('SELECT 1 FROM payments WHERE project_id = $1', [String(payoutsProject.id)]);
    assert.equal(none.length, 0, 'nothing is sent before the person confirms');
    await screens(page, 'mass-payout-checked');

    await page.getByRole('button', { name: 'Send 997 payouts…' }).click();
    await page.getByRole('alertdialog', { name: 'Send 997 payouts?' }).getByRole('button', { name: 'Send payouts' }).click();
    const progress = page.getByRole('progressbar');
    await progress.waitFor();
    const seen = new Set<string>();
    const deadline = Date.now() + 90_000;
    while ((await progress.getAttribute('aria-valuenow')) !== '100') {
      assert.ok(Date.now() < deadline, 'the batch finished within 90 s');
      seen.add((await progress.getAttribute('aria-valuenow')) ?? '');
      await sleep(250);
    }
    await page.getByText(/Finished .*: 997 payouts accepted, 0 failed, 3 rejected at the check/).waitFor({ timeout: 15_000 });
    assert.equal(await page.getByTestId('rows-accepted').textContent(), '997');
    await screens(page, 'mass-payout-done');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download per-row results (CSV)' }).click()]);
    const results = parse(readFileSync((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    assert.equal(results.length, 1000);
    assert.deepEqual(
      results.filter((record) => record.result === 'rejected').map((record) => Number(record.row_number)),
      [17, 500, 999],
    );
    assert.equal(results.filter((record) => record.result === 'accepted').length, 997);
    const { rows: sent } = await gh.platform.context.pool.query<{ count: string }>(
      `SELECT count(*)::text AS count FROM payments WHERE project_id = $1 AND type = 'payout'`,
      [String(payoutsProject.id)],
    );
    assert.equal(sent[0].count, '997');
    console.log(`mass payout progress values seen: ${[...seen].sort((a, b) => Number(a) - Number(b)).join(',')}`);
  });

  test('the other merchant screens: balances, payment links, users, audit log, my account', async () => {
    const { page } = admin;
    await navigate(page, 'Balances', 'Balances');
    await page.getByRole('row').filter({ hasText: 'Web shop' }).first().waitFor();
    await screens(page, 'balances');
    await navigate(page, 'Payment links', 'Payment links');
    await screens(page, 'payment-links');
    await navigate(page, 'Users', 'Users');
    await page.getByRole('rowheader', { name: 'viewer@shop.example' }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill('new.viewer@shop.example');
    await page.getByLabel('First password', { exact: true }).fill('another long password');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByText('new.viewer@shop.example can now sign in.').waitFor();
    await screens(page, 'users');
    await navigate(page, 'Audit log', 'Audit log');
    await page.getByRole('cell', { name: 'payment.refund' }).first().waitFor();
    await screens(page, 'audit-log');
    await navigate(page, 'My account', 'My account');
    await screens(page, 'account');
    // Shop Ltd has no PCI DSS documents yet: the sweep reminds it of both, and the header's badge says so.
    await sweepPciReminders(gh.platform.context);
    await navigate(page, 'Payments', 'Payments');
    await page.getByRole('link', { name: 'Notifications, 2 unread' }).click();
    await heading(page, 'Notifications');
    await page.getByRole('heading', { level: 3, name: /ASV scan report is missing/ }).waitFor();
    await screens(page, 'notifications');
    await page.getByRole('button', { name: 'Mark all as read' }).click();
    await page.getByRole('link', { name: 'Notifications', exact: true }).waitFor();
    // The phone menu: closed at first, opens with its button, and reaches every screen.
    await page.setViewportSize(phoneViewport);
    const menu = page.getByRole('button', { name: 'Menu' });
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    await menu.click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments', exact: true }).click();
    await heading(page, 'Payments');
    await page.setViewportSize(desktopViewport);
  });

  test('operator console: merchants, PCI DSS documents, PayPal onboarding, fees, FX rates', async () => {
    const operator = await newScenario(browser);
    const { page } = operator;
    await page.goto(`${gh.baseUrl}/dashboard/operator`);
    await heading(page, 'Sign in to the Dashboard');
    await signIn(page, operatorEmail);
    await heading(page, 'Merchants');
    // Shop Ltd is in the merchants table and, its documents missing, twice in the table of documents to chase.
    await page.getByRole('link', { name: 'Shop Ltd' }).first().waitFor();
    await page.getByRole('row').filter({ hasText: 'Shop Ltd' }).filter({ hasText: 'ASV scan report is missing' }).waitFor();
    await screens(page, 'operator-merchants');

    await page.getByRole('link', { name: 'Shop Ltd' }).first().click();
    await heading(page, 'Shop Ltd');
    await page.getByLabel('Document', { exact: true }).selectOption('asv_scan');
    await page.getByRole('button', { name: 'Record document' }).click();
    await page.getByText('Document recorded.').waitFor();
    await page.getByRole('cell', { name: 'ASV scan (quarterly)' }).waitFor();
    await screens(page, 'operator-merchant');

    await navigate(page, 'Projects & PayPal', 'Projects and PayPal onboarding');
    await screens(page, 'operator-projects');
    await page.goto(`${gh.baseUrl}/dashboard/operator/projects/${liveProject.id}/onboarding`);
    await heading(page, 'PayPal onboarding: Shop live');
    for (const [button, fill] of [
      ['Move to “Requested”…', undefined],
      ['Move to “Link sent”…', async () => page.getByLabel('Onboarding link (optional)', { exact: true }).fill('https://www.paypal.com/merchantsignup/abc')],
      ['Move to “Rights granted”…', async () => page.getByLabel('PayPal merchant ID', { exact: true }).fill('PAYPAL-MERCHANT-42')],
    ] as const) {
      if (fill) await fill();
      await page.getByRole('button', { name: button }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Move', exact: true }).click();
      await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    }
    await page.getByText('Moved to “Rights granted”.').waitFor();
    await page.locator('[aria-current="step"]').filter({ hasText: 'Rights granted' }).waitFor();
    const { rows } = await gh.platform.context.pool.query('SELECT state, paypal_merchant_id, permissions FROM paypal_onboarding WHERE project_id = $1', [
      String(liveProject.id),
    ]);
    assert.deepEqual(rows[0], { state: 'rights_granted', paypal_merchant_id: 'PAYPAL-MERCHANT-42', permissions: ['purchases_refunds'] });
    // The production project's PayPal credentials: the secret goes in once and comes back as its last 4 characters only.
    const liveSecret = 'EJbrowser-secret-4821';
    await page.getByLabel('Client ID', { exact: true }).fill('AYbrowser-client');
    await page.getByLabel('Client secret', { exact: true }).fill(liveSecret);
    await page.getByRole('button', { name: 'Save credentials' }).click();
    await page.getByText('PayPal credentials saved.').waitFor();
    await page.getByText('…4821').waitFor();
    await page.getByRole('button', { name: 'Replace credentials' }).waitFor();
    assert.equal(await page.getByLabel('Client secret', { exact: true }).inputValue(), '', 'the form forgets the secret once saved');
    assert.ok(!(await page.content()).includes(liveSecret), 'the page never shows the secret');
    await screens(page, 'operator-onboarding');

    await navigate(page, 'Projects & PayPal', 'Projects and PayPal onboarding');
    await page.getByRole('link', { name: `Edit fees of project ${liveProject.id}` }).click();
    await heading(page, 'Fees: Shop live');
    await page.getByLabel('Sale: percent of amount').fill('2.9');
    await page.getByLabel('Sale: fixed part in USD').fill('0.30');
    await page.getByLabel('Payout: fixed part in USD').fill('1.255');
    await page.getByRole('button', { name: 'Save fees' }).click();
    await page.getByText('An amount like 0.30 (at most 2 decimals).').waitFor();
    await page.getByLabel('Payout: fixed part in USD').fill('1.25');
    assert.equal(await page.getByTestId('fee-sale-example').textContent(), '3.20 USD', '2.90% of 100.00 plus 0.30, by the ledger’s rule');
    await page.getByRole('button', { name: 'Save fees' }).click();
    await page.getByText('Fees saved.').waitFor();
    const fees = await gh.platform.context.pool.query('SELECT operation_type, percent_basis_points, fixed_minor::int AS fixed_minor FROM project_fees WHERE project_id = $1 ORDER BY operation_type', [
      String(liveProject.id),
    ]);
    assert.deepEqual(fees.rows, [
      { operation_type: 'payout', percent_basis_points: 0, fixed_minor: 125 },
      { operation_type: 'sale', percent_basis_points: 290, fixed_minor: 30 },
    ]);
    await page.getByLabel('Show fixed parts in').selectOption('JPY');
    assert.equal(await page.getByLabel('Sale: fixed part in JPY').inputValue(), '30', 'the same 30 minor units, in a currency without decimals');
    await screens(page, 'operator-fees');

    await navigate(page, 'FX rates', 'FX rates');
    await page.getByLabel('Base currency', { exact: true }).selectOption('USD');
    await page.getByLabel('Quote currency', { exact: true }).selectOption('JPY');
    await page.getByLabel('Rate', { exact: true }).fill('151.25');
    await page.getByRole('button', { name: 'Save rate' }).click();
    await page.getByRole('row').filter({ hasText: 'JPY' }).filter({ hasText: '151.25' }).waitFor();
    await screens(page, 'operator-fx-rates');
    assert.deepEqual(operator.cspViolations, []);
    await operator.context.close();
  });

  test('every screen fits a phone without sideways scrolling, and nothing broke the CSP', () => {
    assert.ok(Object.keys(phoneOverflows).length >= 18, `screens saved: ${Object.keys(phoneOverflows).join(', ')}`);
    const overflowing = Object.entries(phoneOverflows).filter(([, pixels]) => pixels > 0);
    assert.deepEqual(overflowing, [], 'no screen is wider than a phone');
    assert.deepEqual(admin.cspViolations, []);
  });
});
