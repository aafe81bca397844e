import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { createMerchant, createMerchantProject } from '../src/accounts/merchants.ts';
import { createUser } from '../src/accounts/users.ts';
import { DashboardClient } from '../src/dashboard/client.ts';
import { dashboardTags, rolesOf } from '../src/dashboard/documentation.ts';
import { dashboardRouteTable } from '../src/dashboard/http.ts';
import { dataApiRouteTable, signDataApiRequest } from '../src/data-api/index.ts';
import { errorCodes } from '../src/domain/errors.ts';
import { documentedRouteErrors } from '../src/observability/openapi-schemas.ts';
import { buildOpenApiDocument, openApiJson } from '../src/observability/openapi.ts';
import { launchBrowser, newScenario } from './support/browser.ts';
import { stopTestServer } from './support/database.ts';
import { saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * The OpenAPI document: `openapi.json` is what `npm run openapi` generates
 * from the route schemas now, it is valid OpenAPI 3.1, it documents every
 * code of the error registry exactly as docs/error-codes.md does, every
 * Gate, Data API and Dashboard API route the node serves is in it with a
 * summary, the node serves the same document, real answers match its
 * schemas, and Swagger UI renders it at /docs under the page's CSP.
 */
type Operation = {
  operationId: string;
  tags: string[];
  summary: string;
  security?: Record<string, string[]>[];
  'x-roles'?: string[];
  responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; in: string; name: string }> };
  'x-error-codes': { code: string; http_status: number; message: string; origin: string }[];
};

const openApiFile = new URL('../openapi.json', import.meta.url);
const committed = readFileSync(openApiFile, 'utf8');
const document = JSON.parse(committed) as Document;

describe('openapi.json', () => {
  test('is what `npm run openapi` generates from the route schemas now', async () => {
    const generated = openApiJson(await buildOpenApiDocument());
    assert.ok(generated === committed, 'openapi.json is stale: run `npm run openapi` and commit the result');
  });

  test('is valid OpenAPI 3.1 (@readme/openapi-parser)', async () => {
    assert.equal(document.openapi, '3.1.0');
    const result = await validate(JSON.parse(committed));
    assert.equal(result.valid, true, JSON.stringify(result, null, 2));
  });

  test('documents every Gate endpoint, the payment links and the Data API, with tags, summaries, body and response schemas', () => {
    const wallet = ['sale', 'auth', 'capture', 'cancel', 'refund', 'payout', 'recurring', 'recurring/cancel'].map((action) => `/v2/payment/wallet/{method}/${action}`);
    const dataApi = ['test-clock', 'test-clock/advance', 'operations/get', 'operations/payment', 'chargebacks/get', 'balances/get', 'rates/get'].map((path) => `/data/v1/${path}`);
    const paymentLinks = ['/v2/payment-links', '/v2/payment-links/status'];
    const signedPaths = Object.keys(document.paths).filter((path) => !path.startsWith('/dashboard/api/'));
    assert.deepEqual(signedPaths.sort(), [...wallet, '/v2/payment/status', ...paymentLinks, ...dataApi].sort());
    for (const path of paymentLinks) {
      const operation = document.paths[path].post as Operation & { requestBody?: { content: Record<string, { schema: { required: string[] } }> } };
      assert.deepEqual(operation.tags, ['Payment links'], path);
      assert.deepEqual(operation.requestBody?.content['application/json'].schema.required, ['general', 'link'], `${path} documents its body`);
    }
    assert.match(document.paths['/v2/payment-links'].post.responses['400'].description, /`3025`.*`3027`.*`3029`/s, 'the purchase rules a link meets');
    assert.match(document.paths['/v2/payment-links/status'].post.responses['404'].description, /`3061`/);
    for (const path of signedPaths) {
      const operation = document.paths[path].post;
      assert.ok(operation.summary && operation.tags.length === 1 && operation.operationId, path);
      assert.ok(operation.responses['200'].content?.['application/json'].schema, `${path} documents its success answer`);
      const errorSchema = operation.responses['400'].content?.['application/json'].schema as { required: string[] };
      assert.deepEqual([...errorSchema.required].sort(), ['code', 'message', 'request_id', 'status'], path);
    }
  });

  test('documents the Dashboard API: tags, summary, roles, session cookie and CSRF header, errors in the Gate format', () => {
    const schemes = document.components.securitySchemes;
    assert.deepEqual(schemes.dashboardSession, { ...schemes.dashboardSession, type: 'apiKey', in: 'cookie', name: 'gatehouse_session' });
    assert.deepEqual(schemes.dashboardCsrf, { ...schemes.dashboardCsrf, type: 'apiKey', in: 'header', name: 'x-csrf-token' });
    const tagNames = new Set<string>(dashboardTags.map((tag) => tag.name));
    const operationIds = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths).filter(([path]) => path.startsWith('/dashboard/api/'))) {
      for (const [method, operation] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${path}`;
        assert.ok(operation.summary && operation.tags.length > 0 && operation.tags.every((tag) => tagNames.has(tag)), name);
        assert.ok(!operationIds.has(operation.operationId), `${name}: operationId ${operation.operationId} is unique`);
        operationIds.add(operation.operationId);
        if (path === '/dashboard/api/session' && method === 'post') {
          assert.deepEqual(operation.security, [], 'sign-in needs no session');
        } else {
          const expected = method === 'get' ? { dashboardSession: [] } : { dashboardSession: [], dashboardCsrf: [] };
          assert.deepEqual(operation.security, [expected], name);
          assert.ok(operation['x-roles'] && operation['x-roles'].length > 0, `${name} lists its roles`);
          assert.match(operation.responses['401'].description, /`7001`/, name);
        }
        const errorSchema = operation.responses['415'].content?.['application/json'].schema as { required: string[] };
        assert.deepEqual([...errorSchema.required].sort(), ['code', 'message', 'request_id', 'status'], name);
      }
    }
  });

  test('lists every registry code in x-error-codes, as docs/error-codes.md does, and each route names its codes in its error responses', () => {
    const registry = Object.values(errorCodes).map((entry) => ({ code: entry.code, http_status: entry.httpStatus, message: entry.message, origin: entry.gatehouse ? 'Gatehouse' : 'ecommpay' }));
    assert.deepEqual(document['x-error-codes'], registry);

    const documented = new Map<string, { http_status: number; message: string; origin: string }>();
    for (const line of readFileSync(new URL('../docs/error-codes.md', import.meta.url), 'utf8').split('\n')) {
      const cells = line.split('|').map((cell) => cell.trim());
      if (cells.length >= 6 && /^\d+$/.test(cells[1])) documented.set(cells[1], { http_status: Number(cells[2]), message: cells[3], origin: cells[4] });
    }
    assert.deepEqual(
      [...documented].map(([code, entry]) => ({ code, ...entry })).sort((left, right) => left.code.localeCompare(right.code)),
      [...document['x-error-codes']].sort((left, right) => left.code.localeCompare(right.code)),
    );

    const routeOf = (path: string): keyof typeof documentedRouteErrors => {
      if (path.startsWith('/data/v1/test-clock')) return 'testClock';
      if (path === '/data/v1/operations/payment') return 'dataApiPayment';
      if (path === '/v2/payment-links') return 'paymentLinkCreate';
      if (path === '/v2/payment-links/status') return 'paymentLinkStatus';
      if (path.startsWith('/data/')) return 'dataApi';
      return path === '/v2/payment/status' ? 'status' : (path.replace('/v2/payment/wallet/{method}/', '') as keyof typeof documentedRouteErrors);
    };
    for (const [path, operations] of Object.entries(document.paths).filter(([path]) => !path.startsWith('/dashboard/api/'))) {
      for (const name of documentedRouteErrors[routeOf(path)]) {
        const entry = errorCodes[name];
        const response = operations.post.responses[String(entry.httpStatus)];
        assert.ok(response?.description.includes(`\`${entry.code}\` ${entry.message}`), `${path} documents ${entry.code} under ${entry.httpStatus}`);
      }
    }
  });
});

describe('a running node', () => {
  let gh: TestPlatform;
  before(async () => {
    gh = await startTestPlatform();
  });
  after(async () => {
    await gh?.stop();
    await stopTestServer();
  });

  test('documents every Dashboard API and Data API route the node serves, with a summary (an undocumented route fails here)', () => {
    assert.ok(dashboardRouteTable.length >= 40, `dashboard routes: ${dashboardRouteTable.length}`);
    const missing: string[] = [];
    for (const route of dashboardRouteTable) {
      const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
      const operation = document.paths[path]?.[route.method.toLowerCase()];
      if (!operation?.summary || operation.summary !== route.summary) missing.push(`${route.method} ${route.url}`);
      else if (route.access !== 'public') assert.deepEqual(operation['x-roles'], [...rolesOf(route.access)], `${route.method} ${route.url} roles`);
    }
    assert.ok(dataApiRouteTable.length >= 5, `Data API routes: ${dataApiRouteTable.length}`);
    for (const url of [...dataApiRouteTable, '/data/v1/test-clock', '/data/v1/test-clock/advance']) {
      if (!document.paths[url]?.post?.summary) missing.push(`POST ${url}`);
    }
    assert.deepEqual(missing, [], 'routes served but not in openapi.json: give them a summary and run `npm run openapi`');
    const served = new Set(dashboardRouteTable.map((route) => `${route.method.toLowerCase()} ${route.url.replace(/:([A-Za-z]+)/g, '{$1}')}`));
    const documentedOnly = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/dashboard/api/'))
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
      .filter((key) => !served.has(key));
    assert.deepEqual(documentedOnly, [], 'documented Dashboard routes the node does not serve');
  });

  test('serves the same document at /docs/json', async () => {
    const response = await fetch(`${gh.baseUrl}/docs/json`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), document, 'the node documents other routes than `npm run openapi` does: add them to the OpenAPI build');
  });

  test('answers as the documented schemas say (success, errors, status, test clock)', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const check = (path: string, httpStatus: number, body: unknown) => {
      const schema = document.paths[path].post.responses[String(httpStatus)]?.content?.['application/json'].schema;
      assert.ok(schema, `${path} documents HTTP ${httpStatus}`);
      const valid = ajv.validate(schema, body);
      assert.ok(valid, `${path} ${httpStatus}: ${ajv.errorsText()} in ${JSON.stringify(body)}`);
    };
    const paymentId = `openapi-${Date.now()}`;
    const sale = await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
    check('/v2/payment/wallet/{method}/sale', sale.status, sale.json);
    const duplicate = await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
    assert.equal(duplicate.json.code, '3041');
    check('/v2/payment/wallet/{method}/sale', duplicate.status, duplicate.json);
    const unsigned = await gh.gate('/v2/payment/wallet/paypal/capture', { general: { project_id: Number(gh.project.id), payment_id: paymentId } }, { unsigned: true });
    check('/v2/payment/wallet/{method}/capture', unsigned.status, unsigned.json);
    await gh.waitForCallback((callback) => callback.payment.id === paymentId);
    const status = await gh.gate('/v2/payment/status', { general: { project_id: Number(gh.project.id), payment_id: paymentId } });
    check('/v2/payment/status', status.status, status.json);
    const clock = await gh.gate('/data/v1/test-clock', { general: { project_id: Number(gh.project.id) } });
    check('/data/v1/test-clock', clock.status, clock.json);
    const link = await gh.gate('/v2/payment-links', { general: { project_id: Number(gh.project.id) }, link: { amount: 1500, currency: 'EUR', description: 'A link', single_use: true } });
    assert.equal(link.status, 200, JSON.stringify(link.json));
    check('/v2/payment-links', link.status, link.json);
    const tooBig = await gh.gate('/v2/payment-links', { general: { project_id: Number(gh.project.id) }, link: { amount: 9_000_000_000, currency: 'USD', description: 'Too much', single_use: false } });
    assert.equal(tooBig.json.code, '3027');
    check('/v2/payment-links', tooBig.status, tooBig.json);
    const linkStatus = await gh.gate('/v2/payment-links/status', { general: { project_id: Number(gh.project.id) }, link: { id: link.json.link_id } });
    check('/v2/payment-links/status', linkStatus.status, linkStatus.json);
    const unknownLink = await gh.gate('/v2/payment-links/status', { general: { project_id: Number(gh.project.id) }, link: { id: 'no-such-link' } });
    assert.equal(unknownLink.json.code, '3061');
    check('/v2/payment-links/status', unknownLink.status, unknownLink.json);
  });

  test('Data API and Dashboard API answers match the documented schemas', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const check = (path: string, method: string, httpStatus: number, body: unknown) => {
      const schema = document.paths[path][method].responses[String(httpStatus)]?.content?.['application/json'].schema;
      assert.ok(schema, `${method} ${path} documents HTTP ${httpStatus}`);
      assert.ok(ajv.validate(schema, body), `${method} ${path} ${httpStatus}: ${ajv.errorsText()} in ${JSON.stringify(body)}`);
    };
    const pool = gh.platform.context.pool;
    const merchant = await createMerchant(pool, 'OpenAPI Ltd');
    const project = await createMerchantProject(pool, merchant.id, { name: 'OpenAPI', mode: 'test', callbackUrl: gh.receiver.url });
    const password = 'correct horse battery staple';
    await createUser(pool, { email: 'viewer@openapi.example', role: 'merchant_viewer', merchantId: merchant.id, password });
    const anonymous = new DashboardClient(gh.baseUrl);
    const refused = await anonymous.get('/payments');
    check('/dashboard/api/payments', 'get', refused.status, refused.json);
    const viewer = new DashboardClient(gh.baseUrl);
    await viewer.signIn('viewer@openapi.example', password);
    const forbidden = await viewer.post('/users', { email: 'x@openapi.example', role: 'merchant_viewer', password });
    check('/dashboard/api/users', 'post', forbidden.status, forbidden.json);
    const created = await viewer.post('/data-api-keys', { label: 'openapi' });
    const key = { userId: created.json.user_id as number, secret: created.json.secret_key as string };

    const paymentId = `openapi-data-${Date.now()}`;
    await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(project.id, paymentId), { secret: project.secretKey });
    const call = async (path: string, body: Record<string, unknown>, secret = key.secret) => {
      const signed = signDataApiRequest({ user_id: key.userId, timestamp: Math.floor(Date.now() / 1000), ...body }, secret);
      const response = await fetch(`${gh.baseUrl}/data/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signed) });
      const json = await response.json();
      check(`/data/v1/${path}`, 'post', response.status, json);
      return { status: response.status, json };
    };
    const operations = await call('operations/get', { project_id: Number(project.id) });
    assert.equal(operations.status, 200);
    assert.ok(operations.json.operations.length >= 1);
    assert.equal((await call('operations/payment', { project_id: Number(project.id), payment_id: paymentId })).status, 200);
    assert.equal((await call('chargebacks/get', {})).status, 200);
    assert.equal((await call('balances/get', {})).status, 200);
    assert.equal((await call('rates/get', {})).status, 200);
    assert.equal((await call('operations/payment', { project_id: Number(project.id), payment_id: 'no-such-payment' })).json.code, '3061');
    assert.equal((await call('balances/get', { project_id: Number(gh.project.id) })).json.code, '7006');
    assert.equal((await call('rates/get', {}, 'not-the-key')).json.code, '3261');
  });

  test('renders Swagger UI at /docs in Chromium, from local assets, under its CSP, with the Gate, Data API and Dashboard operations listed', async () => {
    const browser = await launchBrowser();
    try {
      const { context, page, cspViolations } = await newScenario(browser);
      const outside: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(gh.baseUrl) && !request.url().startsWith('data:')) outside.push(request.url());
      });
      const response = await page.goto(`${gh.baseUrl}/docs`);
      assert.equal(response?.status(), 200);
      assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
      await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
      const paths = await page.$$eval('.opblock-summary-path', (elements) => elements.map((element) => element.getAttribute('data-path') ?? element.textContent ?? ''));
      for (const action of ['sale', 'auth', 'capture', 'cancel', 'refund', 'payout', 'recurring', 'recurring/cancel']) {
        assert.ok(paths.some((path) => path.replace(/\u200b/g, '') === `/v2/payment/wallet/{method}/${action}`), `${action} listed in ${JSON.stringify(paths)}`);
      }
      for (const path of ['/v2/payment/status', '/data/v1/operations/get', '/dashboard/api/session', '/dashboard/api/projects/{projectId}/payments/{paymentId}/refund']) {
        assert.ok(paths.some((listed) => listed.replace(/\u200b/g, '') === path), `${path} listed`);
      }
      assert.match(await page.textContent('.info .title') ?? '', /Gatehouse API/);
      assert.deepEqual(cspViolations, []);
      assert.deepEqual(outside, [], 'Swagger UI loads nothing from outside the node');
      await context.close();
    } finally {
      await browser.close();
    }
  });
});
