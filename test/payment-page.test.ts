import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { acceptNewPayment } from '../src/gate/operations.ts';
import type { SaleBody } from '../src/gate/schemas.ts';
import { languageFor } from '../src/payment-page/i18n.ts';
import { paymentPageRoutes } from '../src/payment-page/index.ts';
import { paymentFingerprint, readQueryString } from '../src/payment-page/parameters.ts';
import { escapeHtml, formatAmount } from '../src/payment-page/views.ts';
import { signGateRequest, signPaymentPageParams } from '../src/signature/index.ts';
import { createProject } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { actAtApprovalPage, freePort, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * The Payment Page and payment links over plain HTTP: parameters and
 * signatures (including URLs built by the npm `ecommpay` SDK), refusals that
 * create nothing, idempotent reopening, the page's security headers and script
 * inventory, and the payment link API. The clicking customer is in
 * payment-page-browser.test.ts.
 */
const require = createRequire(import.meta.url);
const { Payment } = require('ecommpay') as {
  Payment: new (projectId: string, secret: string, settings?: object, baseUrl?: string) => Record<string, unknown> & { getUrl(): string };
};

let gh: TestPlatform;
let sequence = 0;
const nextPaymentId = (label: string) => `${label}-${Date.now().toString(36)}-${++sequence}`;

before(async () => {
  gh = await startTestPlatform();
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

function baseParams(paymentId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    project_id: String(gh.project.id),
    payment_id: paymentId,
    payment_amount: '1000',
    payment_currency: 'USD',
    customer_id: 'customer-7',
    payment_description: 'Two tickets',
    ...extra,
  };
}

function signedUrl(params: Record<string, string>, secret = gh.project.secretKey): string {
  return `${gh.baseUrl}/payment?${new URLSearchParams(signPaymentPageParams(params, secret))}`;
}

function sdkUrl(paymentId: string, settings: Record<string, unknown> = {}): string {
  const payment = new Payment(String(gh.project.id), gh.project.secretKey, {}, gh.baseUrl);
  payment.paymentId = paymentId;
  payment.paymentAmount = 1000;
  payment.paymentCurrency = 'USD';
  payment.customerId = 'customer-7';
  payment.paymentDescription = 'Two tickets';
  for (const [key, value] of Object.entries(settings)) payment[key] = value;
  return payment.getUrl();
}

async function get(url: string) {
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, headers: response.headers, html: await response.text() };
}

async function choosePaypal(url: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'method=paypal-wallet',
    redirect: 'manual',
  });
  return { status: response.status, location: response.headers.get('location') ?? '', html: await response.text() };
}

/** Follows the waiting page until it sends the customer to PayPal. */
async function approvalUrlFrom(waitLocation: string): Promise<string> {
  const waitUrl = new URL(waitLocation, gh.baseUrl).toString();
  for (let attempt = 0; attempt < 150; attempt += 1) {
    const response = await fetch(waitUrl, { redirect: 'manual' });
    await response.text();
    if (response.status === 303) return response.headers.get('location')!;
    assert.equal(response.status, 200);
    await sleep(100);
  }
  throw new Error('the waiting page never moved on to PayPal');
}

async function rowCounts(paymentId: string): Promise<{ sessions: number; payments: number }> {
  const { rows } = await gh.database.pool.query(
    `SELECT (SELECT count(*) FROM payment_page_sessions WHERE project_id = $1 AND payment_id = $2)::int AS sessions,
            (SELECT count(*) FROM payments WHERE project_id = $1 AND payment_id = $2)::int AS payments`,
    [String(gh.project.id), paymentId],
  );
  return rows[0];
}

describe('pure parts', () => {
  test('amounts are formatted from minor units exactly, in the page language', () => {
    assert.equal(formatAmount(900_719_925_474_099n, 'USD', 'en'), '$9,007,199,254,740.99');
    assert.equal(formatAmount(5n, 'EUR', 'de'), '0,05\u00a0€');
    assert.equal(formatAmount(1500n, 'HUF', 'en'), 'HUF\u00a01,500');
  });

  test('the fingerprint ignores presentation parameters and changes with anything that defines the payment', () => {
    const params = { project_id: '1', payment_id: 'p', payment_amount: '100', payment_currency: 'USD', customer_id: 'c', signature: 'x' };
    const base = paymentFingerprint(params);
    assert.equal(paymentFingerprint({ ...params, signature: 'y', language_code: 'de', best_before: '2030-01-01T00:00:00Z', force_payment_method: 'paypal-wallet' }), base);
    assert.notEqual(paymentFingerprint({ ...params, payment_amount: '101' }), base);
    assert.notEqual(paymentFingerprint({ ...params, redirect_success_url: 'https://elsewhere.example' }), base);
  });

  test('query strings: decoded once, a repeated parameter refused; language codes by primary tag', () => {
    assert.deepEqual(readQueryString('?a=1%2B1&b=%7B%22x%22%3A1%7D'), { a: '1+1', b: '{"x":1}' });
    assert.throws(() => readQueryString('?a=1&a=2'));
    assert.equal(languageFor('de-AT'), 'de');
    assert.equal(languageFor('ES'), 'es');
    assert.equal(languageFor('fr'), 'en');
    assert.equal(escapeHtml('<a href="x">\'&'), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;');
  });
});

describe('opening the Payment Page', () => {
  test('a URL built by the npm ecommpay SDK opens the page: amount, description, PayPal, strict CSP, SRI on every script', async () => {
    const paymentId = nextPaymentId('sdk');
    const page = await get(sdkUrl(paymentId));
    assert.equal(page.status, 200, page.html);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.html, /<html lang="en">/);
    assert.match(page.html, /\$10\.00/);
    assert.match(page.html, /Two tickets/);
    assert.match(page.html, /<button class="method" type="submit" name="method" value="paypal-wallet">/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.doesNotMatch(page.html, /<script>|<script [^>]*>[^<]+<\/script>|style="/, 'no inline script or style');
    const scriptTags = page.html.match(/<script[^>]*>/g) ?? [];
    assert.ok(scriptTags.length > 0);
    for (const tag of scriptTags) assert.match(tag, /integrity="sha384-[A-Za-z0-9+/=]+"/);
    assert.deepEqual(await rowCounts(paymentId), { sessions: 1, payments: 0 });
  });

  test('script inventory (PCI DSS 6.4.3): every script is listed, and its integrity hash is the hash of the bytes served', async () => {
    const inventory = await (await fetch(`${gh.baseUrl}/payment/script-inventory.json`)).json();
    assert.deepEqual(inventory.third_party_scripts, []);
    assert.deepEqual(inventory.inline_scripts, []);
    assert.ok(inventory.scripts.length >= 1);
    const page = await get(signedUrl(baseParams(nextPaymentId('inventory'))));
    const pageScripts = [...page.html.matchAll(/<script src="([^"]+)" integrity="([^"]+)"/g)].map((match) => ({ src: match[1], integrity: match[2] }));
    assert.deepEqual(
      pageScripts.map((script) => script.src).sort(),
      inventory.scripts.map((script: { src: string }) => script.src).sort(),
    );
    for (const entry of [...inventory.scripts, ...inventory.stylesheets]) {
      const path = entry.src ?? entry.href;
      const response = await fetch(`${gh.baseUrl}${path}`);
      const body = Buffer.from(await response.arrayBuffer());
      assert.equal(entry.integrity, `sha384-${createHash('sha384').update(body).digest('base64')}`, path);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      if (entry.src) {
        assert.ok(pageScripts.some((script) => script.src === entry.src && script.integrity === entry.integrity));
        assert.ok(typeof entry.purpose === 'string' && entry.purpose.length > 10);
      }
    }
  });

  test('SDK booleans: "true" in the URL, 1 in the signature, is accepted', async () => {
    const url = sdkUrl(nextPaymentId('sdk-bool'), { redirect: true, forceAcsNewWindow: false });
    assert.match(url, /redirect=true/);
    assert.equal((await get(url)).status, 200);
  });

  test('JSON parameters are signed as the raw strings received; additional data reaches the payment', async () => {
    const paymentId = nextPaymentId('json');
    const options = '{"paypal_wallet":{"additional_data":{"payments_count":3,"pin_verification":"Y","additional_verification":"1101"}}}';
    const url = signedUrl(baseParams(paymentId, { payment_methods_options: options, customer_email: 'jane@example.com', customer_country: 'DE' }));
    assert.equal((await get(url)).status, 200);
    const chosen = await choosePaypal(url);
    assert.equal(chosen.status, 303, chosen.html);
    const { rows } = await gh.database.pool.query('SELECT additional_data, customer FROM payments WHERE project_id = $1 AND payment_id = $2', [String(gh.project.id), paymentId]);
    assert.deepEqual(rows[0].additional_data, { payments_count: 3, pin_verification: 'Y', additional_verification: '1101' });
    assert.equal(rows[0].customer.email, 'jane@example.com');
    assert.equal(rows[0].customer.country, 'DE');
    assert.equal(rows[0].customer.id, 'customer-7');
    assert.ok(rows[0].customer.ip_address, 'the customer IP address is the browser connection');
  });

  test('language_code=de: German page, amount in German format; unknown language falls back to English', async () => {
    const german = await get(signedUrl(baseParams(nextPaymentId('de'), { language_code: 'de' })));
    assert.match(german.html, /<html lang="de">/);
    assert.match(german.html, /Zahlungsart wählen/);
    assert.match(german.html, /10,00\s\$/);
    const spanish = await get(signedUrl(baseParams(nextPaymentId('es'), { language_code: 'es' })));
    assert.match(spanish.html, /Elija un método de pago/);
    const unknown = await get(signedUrl(baseParams(nextPaymentId('xx'), { language_code: 'xx' })));
    assert.match(unknown.html, /Choose a payment method/);
  });

  test('force_payment_method=paypal-wallet shows PayPal selected, without the method list', async () => {
    const page = await get(signedUrl(baseParams(nextPaymentId('forced'), { force_payment_method: 'paypal-wallet' })));
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.html, /Choose a payment method/);
    assert.match(page.html, /Pay \$10\.00 with PayPal/);
    const unknownMethod = await get(signedUrl(baseParams(nextPaymentId('forced-card'), { force_payment_method: 'card' })));
    assert.equal(unknownMethod.status, 400);
  });

  test('HUF and JPY amounts are whole units (the currency table), formatted without decimals', async () => {
    const page = await get(signedUrl(baseParams(nextPaymentId('jpy'), { payment_amount: '1500', payment_currency: 'JPY' })));
    assert.equal(page.status, 200, page.html);
    assert.match(page.html, /¥1,500</);
  });
});

describe('refusals show an error page and create nothing', () => {
  const cases: { name: string; status: number; text: RegExp; url: () => { url: string; paymentId: string } }[] = [
    {
      name: 'a tampered amount (bad signature)',
      status: 403,
      text: /changed or is not signed correctly/,
      url: () => {
        const paymentId = nextPaymentId('tampered');
        return { paymentId, url: signedUrl(baseParams(paymentId)).replace('payment_amount=1000', 'payment_amount=1') };
      },
    },
    {
      name: 'a signature made with another key',
      status: 403,
      text: /not signed correctly/,
      url: () => {
        const paymentId = nextPaymentId('wrong-key');
        return { paymentId, url: signedUrl(baseParams(paymentId), 'not-the-key') };
      },
    },
    {
      name: 'an unknown project',
      status: 404,
      text: /not known/,
      url: () => {
        const paymentId = nextPaymentId('unknown-project');
        return { paymentId, url: signedUrl({ ...baseParams(paymentId), project_id: '999999' }) };
      },
    },
    {
      name: 'a missing required parameter',
      status: 400,
      text: /Missing: customer_id/,
      url: () => {
        const paymentId = nextPaymentId('missing');
        const { customer_id: _customerId, ...params } = baseParams(paymentId);
        return { paymentId, url: signedUrl(params) };
      },
    },
    {
      name: 'an expired best_before',
      status: 410,
      text: /has expired/,
      url: () => {
        const paymentId = nextPaymentId('expired');
        return { paymentId, url: signedUrl(baseParams(paymentId, { best_before: new Date(Date.now() - 60_000).toISOString() })) };
      },
    },
    {
      name: 'a best_before that is not ISO 8601',
      status: 400,
      text: /best_before/,
      url: () => {
        const paymentId = nextPaymentId('bad-date');
        return { paymentId, url: signedUrl(baseParams(paymentId, { best_before: 'tomorrow' })) };
      },
    },
    {
      name: 'an invalid customer email (the Gate sale schema)',
      status: 400,
      text: /customer_email/,
      url: () => {
        const paymentId = nextPaymentId('bad-email');
        return { paymentId, url: signedUrl(baseParams(paymentId, { customer_email: 'not-an-email' })) };
      },
    },
    {
      name: 'a currency PayPal does not take',
      status: 400,
      text: /Currency is not supported/,
      url: () => {
        const paymentId = nextPaymentId('currency');
        return { paymentId, url: signedUrl(baseParams(paymentId, { payment_currency: 'RUB' })) };
      },
    },
    {
      name: 'payment_methods_options that is not JSON',
      status: 400,
      text: /payment_methods_options is not JSON/,
      url: () => {
        const paymentId = nextPaymentId('bad-json');
        return { paymentId, url: signedUrl(baseParams(paymentId, { payment_methods_options: '{"paypal_wallet":' })) };
      },
    },
    {
      name: 'a recurring object of the wrong shape',
      status: 400,
      text: /recurring/,
      url: () => {
        const paymentId = nextPaymentId('bad-recurring');
        return { paymentId, url: signedUrl(baseParams(paymentId, { recurring: '{"register":true,"type":"X"}' })) };
      },
    },
  ];

  for (const scenario of cases) {
    test(scenario.name, async () => {
      const { url, paymentId } = scenario.url();
      const page = await get(url);
      assert.equal(page.status, scenario.status, page.html);
      assert.match(page.html, scenario.text);
      assert.match(page.html, /This payment cannot be opened/);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      const posted = await choosePaypal(url);
      assert.equal(posted.status, scenario.status);
      assert.deepEqual(await rowCounts(paymentId), { sessions: 0, payments: 0 });
    });
  }

  test('a repeated parameter is refused', async () => {
    const paymentId = nextPaymentId('repeated');
    const page = await get(`${signedUrl(baseParams(paymentId))}&payment_amount=1000`);
    assert.equal(page.status, 400);
    assert.deepEqual(await rowCounts(paymentId), { sessions: 0, payments: 0 });
  });

  test('a project with PayPal disabled has no method to offer', async () => {
    const project = await createProject(gh.platform.context.pool, { name: 'no paypal', mode: 'test', callbackUrl: gh.receiver.url });
    await gh.database.pool.query('UPDATE projects SET paypal_enabled = false WHERE id = $1', [String(project.id)]);
    const paymentId = nextPaymentId('disabled');
    const page = await get(signedUrl({ ...baseParams(paymentId), project_id: String(project.id) }, project.secretKey));
    assert.equal(page.status, 400);
    assert.match(page.html, /No payment method is available/);
  });

  test('a payment_id reused with different parameters is refused (409), the first payment untouched', async () => {
    const paymentId = nextPaymentId('reuse');
    assert.equal((await get(signedUrl(baseParams(paymentId)))).status, 200);
    const other = await get(signedUrl(baseParams(paymentId, { payment_amount: '2000' })));
    assert.equal(other.status, 409);
    assert.match(other.html, /already used for a different payment/);
    assert.equal((await choosePaypal(signedUrl(baseParams(paymentId, { payment_amount: '2000' })))).status, 409);
    assert.deepEqual(await rowCounts(paymentId), { sessions: 1, payments: 0 });
    // Presentation parameters may differ: the same payment in German, with a later best_before.
    const sameInGerman = await get(signedUrl(baseParams(paymentId, { language_code: 'de', best_before: new Date(Date.now() + 3_600_000).toISOString() })));
    assert.equal(sameInGerman.status, 200);
  });

  test('a payment_id already used by a Gate request is refused and the Gate payment is not touched', async () => {
    const paymentId = nextPaymentId('gate-first');
    const response = await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
    assert.equal(response.status, 200);
    const page = await get(signedUrl(baseParams(paymentId)));
    assert.equal(page.status, 409);
    assert.deepEqual(await rowCounts(paymentId), { sessions: 0, payments: 1 });
  });
});

describe('paying through the page', () => {
  test('choosing PayPal makes a Gate sale: same callbacks, waiting page, PayPal, result page, link to the shop', async () => {
    const paymentId = nextPaymentId('pay');
    const url = sdkUrl(paymentId, { redirectSuccessUrl: 'https://shop.example/thanks', redirectFailUrl: 'https://shop.example/sorry' });
    const chosen = await choosePaypal(url);
    assert.equal(chosen.status, 303);
    assert.match(chosen.location, /^\/payment\/wait\/[A-Za-z0-9_-]{32}$/);
    const waiting = await get(new URL(chosen.location, gh.baseUrl).toString());
    if (waiting.status === 200) {
      assert.match(waiting.html, /<meta http-equiv="refresh" content="1; url=\/payment\/wait\//);
      assert.match(waiting.html, /Connecting to PayPal/);
    }
    const approvalUrl = await approvalUrlFrom(chosen.location);
    assert.match(approvalUrl, /\/sandbox\/paypal\/checkoutnow\?token=/);

    const intermediate = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.code === '9999');
    assert.equal(intermediate.redirect_data.url, approvalUrl);
    assert.equal(intermediate.operation.type, 'sale');
    assert.equal(intermediate.customer.id, 'customer-7');

    // Reopening the page while PayPal waits: the state, with the way back to PayPal.
    const reopened = await get(url);
    assert.match(reopened.html, /Approve your payment at PayPal/);
    assert.ok(reopened.html.includes(`href="${approvalUrl}"`));

    const landing = await actAtApprovalPage(approvalUrl, 'approve');
    assert.match(landing, /\/payment\/result\/[A-Za-z0-9_-]{32}\?outcome=success$/);
    const final = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.code !== '9999');
    assert.equal(final.payment.status, 'success');
    assert.equal(final.operation.code, '0');
    assert.deepEqual(final.payment.sum, { amount: 1000, currency: 'USD' });
    assert.equal(final.payment.description, 'Two tickets');

    const result = await get(landing);
    assert.equal(result.status, 200);
    assert.match(result.html, /Payment successful/);
    assert.match(result.html, /href="https:\/\/shop\.example\/thanks"/);

    // Reopening the original URL, and choosing again, never makes a second payment.
    assert.match((await get(url)).html, /Payment successful/);
    const again = await choosePaypal(url);
    assert.equal(again.status, 303);
    assert.deepEqual(await rowCounts(paymentId), { sessions: 1, payments: 1 });
    assert.equal(gh.callbacksFor(paymentId).length, 2);
  });

  test('the waiting page refreshes itself (no script) while the order is created; then it sends the customer to PayPal', async () => {
    // Amount ending 09: the sandbox answers the first order creation with 503, the job retries a few seconds later.
    const chosen = await choosePaypal(signedUrl(baseParams(nextPaymentId('wait'), { payment_amount: '1009' })));
    const waiting = await get(new URL(chosen.location, gh.baseUrl).toString());
    assert.equal(waiting.status, 200);
    assert.ok(waiting.html.includes(`<meta http-equiv="refresh" content="1; url=${chosen.location}">`));
    assert.match(waiting.html, /Connecting to PayPal/);
    assert.match(waiting.html, /role="status"/);
    assert.match(await approvalUrlFrom(chosen.location), /\/sandbox\/paypal\/checkoutnow\?token=/);
  });

  test('concurrent submits of the same page create one payment', async () => {
    const paymentId = nextPaymentId('race');
    const url = signedUrl(baseParams(paymentId));
    const answers = await Promise.all(Array.from({ length: 6 }, () => choosePaypal(url)));
    for (const answer of answers) assert.equal(answer.status, 303, answer.html);
    assert.equal(new Set(answers.map((answer) => answer.location)).size, 1);
    assert.deepEqual(await rowCounts(paymentId), { sessions: 1, payments: 1 });
    const { rows } = await gh.database.pool.query(
      `SELECT count(*)::int AS operations FROM operations o JOIN payments p ON p.id = o.payment_ref WHERE p.project_id = $1 AND p.payment_id = $2`,
      [String(gh.project.id), paymentId],
    );
    assert.equal(rows[0].operations, 1);
  });

  test('merchant_callback_url overrides the project callback URL, as in Gate', async () => {
    const paymentId = nextPaymentId('callback-url');
    const callbackUrl = `${gh.receiver.url}/page-override`;
    const chosen = await choosePaypal(signedUrl(baseParams(paymentId, { merchant_callback_url: callbackUrl })));
    assert.equal(chosen.status, 303);
    await approvalUrlFrom(chosen.location);
    const { rows } = await gh.database.pool.query(
      `SELECT c.url FROM callbacks c JOIN payments p ON p.id = c.payment_ref WHERE p.project_id = $1 AND p.payment_id = $2`,
      [String(gh.project.id), paymentId],
    );
    assert.deepEqual(rows.map((row) => row.url), [callbackUrl]);
  });

  test('cancelled at PayPal: decline page with the reason and the shop fail URL', async () => {
    const paymentId = nextPaymentId('cancel');
    const chosen = await choosePaypal(signedUrl(baseParams(paymentId, { merchant_fail_url: 'https://shop.example/failed' })));
    const landing = await actAtApprovalPage(await approvalUrlFrom(chosen.location), 'cancel');
    const result = await get(landing);
    assert.match(result.html, /Payment not completed/);
    assert.match(result.html, /You cancelled the payment at PayPal/);
    assert.match(result.html, /href="https:\/\/shop\.example\/failed"/);
    const final = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.code !== '9999');
    assert.equal(final.payment.status, 'decline');
  });

  test('COF registration through the page: the final callback carries recurring {id, currency}', async () => {
    const paymentId = nextPaymentId('page-cof');
    const url = signedUrl(baseParams(paymentId, { recurring: '{"register":true,"type":"U"}' }));
    const chosen = await choosePaypal(url);
    assert.equal(chosen.status, 303, chosen.html);
    const approvalUrl = await approvalUrlFrom(chosen.location);
    await actAtApprovalPage(approvalUrl, 'approve');
    const final = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.code === '0');
    assert.equal(typeof final.recurring.id, 'number');
    assert.equal(final.recurring.currency, 'USD');
    const { rows } = await gh.database.pool.query('SELECT status, type FROM recurring_registrations WHERE id = $1', [final.recurring.id]);
    assert.deepEqual(rows[0], { status: 'active', type: 'U' });
  });

  test('an invalid COF registration through the page shows an error page and creates nothing', async () => {
    const paymentId = nextPaymentId('page-cof-bad');
    const url = signedUrl(baseParams(paymentId, { recurring: `{"register":true,"type":"R","period":"M","start_date":"01-01-2020","scheduled_payment_id":"x"}` }));
    const chosen = await choosePaypal(url);
    assert.ok(chosen.status >= 400 && chosen.status < 500, `status ${chosen.status}`);
    assert.equal((await rowCounts(paymentId)).payments, 0);
  });

  test('with a registerRecurring hook, the page passes the recurring object to it with the sale', async () => {
    const received: SaleBody[] = [];
    const app = Fastify();
    const context = gh.platform.context;
    await app.register(paymentPageRoutes, {
      context,
      registerRecurring: async (project, sale) => {
        received.push(sale);
        const { recurring: _recurring, ...plainSale } = sale as SaleBody & { recurring?: unknown };
        return acceptNewPayment(context, project, 'paypal', 'sale', plainSale as SaleBody);
      },
    });
    const paymentId = nextPaymentId('cof');
    const recurring = '{"register":true,"type":"R","period":"M","interval":1,"time":"10:00:00"}';
    const query = new URLSearchParams(signPaymentPageParams(baseParams(paymentId, { recurring }), gh.project.secretKey));
    const shown = await app.inject({ method: 'GET', url: `/payment?${query}` });
    assert.equal(shown.statusCode, 200, shown.body);
    const posted = await app.inject({
      method: 'POST',
      url: `/payment?${query}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'method=paypal-wallet',
    });
    assert.equal(posted.statusCode, 303, posted.body);
    await app.close();
    assert.equal(received.length, 1);
    assert.deepEqual((received[0] as SaleBody & { recurring: unknown }).recurring, JSON.parse(recurring));
    assert.equal(received[0].general.payment_id, paymentId);
  });

  test('unknown waiting and result tokens answer 404 pages', async () => {
    assert.equal((await get(`${gh.baseUrl}/payment/wait/${'a'.repeat(32)}`)).status, 404);
    assert.equal((await get(`${gh.baseUrl}/payment/result/${'b'.repeat(32)}?outcome=success`)).status, 404);
  });
});

describe('payment links', () => {
  async function createLink(link: Record<string, unknown>, secret?: string) {
    return gh.gate('/v2/payment-links', { general: { project_id: Number(gh.project.id) }, link }, { secret });
  }
  async function linkStatus(linkId: string) {
    return gh.gate('/v2/payment-links/status', { general: { project_id: Number(gh.project.id) }, link: { id: linkId } });
  }
  async function submitLink(linkId: string, nonce?: string) {
    const page = await get(`${gh.baseUrl}/pay/${linkId}`);
    assert.equal(page.status, 200, page.html);
    const formNonce = nonce ?? /name="nonce" value="([^"]+)"/.exec(page.html)![1];
    const response = await fetch(`${gh.baseUrl}/pay/${linkId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ method: 'paypal-wallet', nonce: formNonce }).toString(),
      redirect: 'manual',
    });
    return { status: response.status, location: response.headers.get('location') ?? '', html: await response.text(), nonce: formNonce };
  }

  test('create (signed like Gate), pay once, status paid, a single-use link cannot be paid twice', async () => {
    const created = await createLink({ amount: 2500, currency: 'EUR', description: 'Invoice 77', single_use: true });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.equal(created.json.status, 'success');
    assert.match(created.json.link_id, /^[a-z2-7]{20}$/);
    assert.equal(created.json.url, `${gh.baseUrl}/pay/${created.json.link_id}`);
    const linkId = created.json.link_id as string;
    assert.equal((await linkStatus(linkId)).json.link.status, 'active');

    const page = await get(created.json.url);
    assert.match(page.html, /Invoice 77/);
    assert.match(page.html, /€25\.00/);
    const submitted = await submitLink(linkId);
    assert.equal(submitted.status, 303, submitted.html);
    // The same form submitted again (double click, back button) finds the same attempt.
    const resubmitted = await submitLink(linkId, submitted.nonce);
    assert.equal(resubmitted.location, submitted.location);

    const approvalUrl = await approvalUrlFrom(submitted.location);
    const paymentId = `link-${linkId}-1`;
    const intermediate = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.code === '9999');
    assert.equal(intermediate.payment.sum.currency, 'EUR');
    const landing = await actAtApprovalPage(approvalUrl, 'approve');
    const landed = await get(landing);
    assert.match(landed.html, /Payment successful|Your payment is being processed/);
    await gh.waitForCallback((body) => body.payment.id === paymentId && body.payment.status === 'success');
    assert.match((await get(landing)).html, /Payment successful/);

    const status = await linkStatus(linkId);
    assert.equal(status.json.link.status, 'paid');
    assert.equal(status.json.link.paid_count, 1);
    assert.deepEqual(status.json.link.payments.map((payment: { payment_id: string; status: string }) => [payment.payment_id, payment.status]), [[paymentId, 'success']]);

    const reopened = await get(created.json.url);
    assert.match(reopened.html, /already been paid/);
    const { rows } = await gh.database.pool.query(`SELECT count(*)::int AS payments FROM payments WHERE payment_id LIKE $1`, [`link-${linkId}-%`]);
    assert.equal(rows[0].payments, 1);
  });

  test('a cancelled attempt does not use up a single-use link; the next attempt is link-<id>-2', async () => {
    const created = await createLink({ amount: 1200, currency: 'USD', description: 'Cancelled first', single_use: true });
    const linkId = created.json.link_id as string;
    const first = await submitLink(linkId);
    const landing = await actAtApprovalPage(await approvalUrlFrom(first.location), 'cancel');
    assert.match((await get(landing)).html, new RegExp(`href="/pay/${linkId}\\?language_code=en"`), 'a try-again link');
    const second = await submitLink(linkId);
    assert.notEqual(second.location, first.location);
    await approvalUrlFrom(second.location);
    await gh.waitForCallback((body) => body.payment.id === `link-${linkId}-2` && body.operation.code === '9999');
  });

  test('a multi-use link takes several payments', async () => {
    const created = await createLink({ amount: 500, currency: 'USD', description: 'Donation', single_use: false });
    const linkId = created.json.link_id as string;
    const first = await submitLink(linkId);
    const second = await submitLink(linkId);
    assert.notEqual(first.location, second.location);
    await approvalUrlFrom(second.location);
    const status = await linkStatus(linkId);
    assert.equal(status.json.link.status, 'active');
    assert.deepEqual(status.json.link.payments.map((payment: { payment_id: string }) => payment.payment_id).sort(), [`link-${linkId}-1`, `link-${linkId}-2`]);
  });

  test('an expired link shows a 410 page and starts nothing', async () => {
    const created = await createLink({ amount: 700, currency: 'USD', description: 'Soon gone', single_use: true, expires_at: new Date(Date.now() + 1_000).toISOString() });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    await sleep(1_100);
    const page = await get(created.json.url);
    assert.equal(page.status, 410);
    assert.match(page.html, /expired/);
    assert.equal((await linkStatus(created.json.link_id)).json.link.status, 'expired');
    const { rows } = await gh.database.pool.query(`SELECT count(*)::int AS sessions FROM payment_page_sessions WHERE link_id = $1`, [created.json.link_id]);
    assert.equal(rows[0].sessions, 0);
  });

  test('the link API refuses bad signatures, bad fields and other projects\' links with registry codes', async () => {
    const badSignature = await createLink({ amount: 500, currency: 'USD', description: 'x', single_use: true }, 'wrong');
    assert.equal(badSignature.status, 401);
    assert.equal(badSignature.json.code, '3261');
    const unsigned = await gh.gate('/v2/payment-links', { general: { project_id: Number(gh.project.id) }, link: { amount: 5, currency: 'USD', description: '', single_use: true } }, { unsigned: true });
    assert.equal(unsigned.json.code, '3262');
    const missing = await createLink({ amount: 500, currency: 'USD', description: 'x' });
    assert.equal(missing.json.code, '2004');
    const past = await createLink({ amount: 500, currency: 'USD', description: 'x', single_use: true, expires_at: '2020-01-01T00:00:00Z' });
    assert.equal(past.json.code, '2005');
    const currency = await createLink({ amount: 500, currency: 'RUB', description: 'x', single_use: true });
    assert.equal(currency.json.code, '3025');
    const tooMuch = await createLink({ amount: 6_000_001, currency: 'USD', description: 'x', single_use: true });
    assert.equal(tooMuch.json.code, '3027');

    const other = await createProject(gh.platform.context.pool, { name: 'other shop', mode: 'test' });
    const othersLink = await fetch(`${gh.baseUrl}/v2/payment-links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signGateRequest({ general: { project_id: Number(other.id) }, link: { amount: 100, currency: 'USD', description: 'theirs', single_use: true } }, other.secretKey)),
    }).then((response) => response.json());
    const status = await linkStatus(othersLink.link_id);
    assert.equal(status.status, 404);
    assert.equal(status.json.code, '3061');
    assert.equal((await get(`${gh.baseUrl}/pay/${'z'.repeat(20)}`)).status, 404);
  });
});

describe('PayPal JS SDK example (examples/paypal-js-sdk)', () => {
  test('server.mjs passes a syntax check', () => {
    execFileSync(process.execPath, ['--check', 'examples/paypal-js-sdk/server.mjs']);
  });

  test('its createOrder answers with the PayPal order id from the intermediate callback; the final callback settles it', async () => {
    const port = await freePort();
    Object.assign(process.env, { PORT: String(port), GATEHOUSE_URL: gh.baseUrl, PROJECT_ID: String(gh.project.id), SECRET_KEY: gh.project.secretKey });
    // A plain .mjs file without types: imported by a non-literal path, typed here.
    const examplePath = '../examples/paypal-js-sdk/server.mjs';
    const example = (await import(examplePath)) as { server: import('node:http').Server };
    await new Promise<void>((resolve) => example.server.listen(port, '127.0.0.1', resolve));
    try {
      const shop = `http://127.0.0.1:${port}`;
      assert.match(await (await fetch(shop)).text(), /paypal-buttons/);
      const created = await fetch(`${shop}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 1000, currency: 'USD' }) });
      const order = await created.json();
      assert.equal(created.status, 200, JSON.stringify(order));
      assert.match(order.orderId, /^[A-Z0-9]{17}$/);
      assert.ok(order.approvalUrl.endsWith(`token=${order.orderId}`));
      await actAtApprovalPage(order.approvalUrl, 'approve');
      let state: { final: boolean; status: string } = { final: false, status: '' };
      for (let attempt = 0; attempt < 100 && !state.final; attempt += 1) {
        state = await (await fetch(`${shop}/api/orders/${order.paymentId}`)).json();
        if (!state.final) await sleep(100);
      }
      assert.deepEqual([state.final, state.status], [true, 'success']);
    } finally {
      await new Promise((resolve) => example.server.close(resolve));
    }
  });
});
