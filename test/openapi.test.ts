import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { errorCodes } from '../src/domain/errors.ts';
import { documentedRouteErrors } from '../src/observability/openapi-schemas.ts';
import { buildOpenApiDocument, openApiJson } from '../src/observability/openapi.ts';
import { launchBrowser, newScenario } from './support/browser.ts';
import { stopTestServer } from './support/database.ts';
import { saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * The OpenAPI document: `openapi.json` is what `npm run openapi` generates
 * from the route schemas now, it is valid OpenAPI 3.1, it documents every
 * code of the error registry exactly as docs/error-codes.md does, the node
 * serves the same document, real answers match its schemas, and Swagger UI
 * renders it at /docs under the page's CSP.
 */
type Document = {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; tags: string[]; summary: string; responses: Record<string, { description: string; content?: Record<string, { schema: object }> }> }>>;
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

  test('documents every Gate endpoint and the test-clock Data API, with tags, summaries and response schemas', () => {
    const wallet = ['sale', 'auth', 'capture', 'cancel', 'refund', 'payout', 'recurring', 'recurring/cancel'].map((action) => `/v2/payment/wallet/{method}/${action}`);
    assert.deepEqual(Object.keys(document.paths).sort(), [...wallet, '/v2/payment/status', '/data/v1/test-clock', '/data/v1/test-clock/advance'].sort());
    for (const [path, operations] of Object.entries(document.paths)) {
      const operation = operations.post;
      assert.ok(operation.summary && operation.tags.length === 1 && operation.operationId, path);
      assert.ok(operation.responses['200'].content?.['application/json'].schema, `${path} documents its success answer`);
      const errorSchema = operation.responses['400'].content?.['application/json'].schema as { required: string[] };
      assert.deepEqual([...errorSchema.required].sort(), ['code', 'message', 'request_id', 'status'], path);
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

    const routeOf = (path: string): keyof typeof documentedRouteErrors =>
      path.startsWith('/data/') ? 'testClock' : path === '/v2/payment/status' ? 'status' : (path.replace('/v2/payment/wallet/{method}/', '') as keyof typeof documentedRouteErrors);
    for (const [path, operations] of Object.entries(document.paths)) {
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
  });

  test('renders Swagger UI at /docs in Chromium, from local assets, under its CSP, with the Gate operations listed', async () => {
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
      assert.ok(paths.some((path) => path.replace(/\u200b/g, '') === '/v2/payment/status'));
      assert.match(await page.textContent('.info .title') ?? '', /Gatehouse Gate API/);
      assert.deepEqual(cspViolations, []);
      assert.deepEqual(outside, [], 'Swagger UI loads nothing from outside the node');
      await context.close();
    } finally {
      await browser.close();
    }
  });
});
