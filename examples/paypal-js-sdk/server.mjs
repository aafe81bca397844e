#!/usr/bin/env node
/**
 * A merchant's server for the PayPal JS SDK flow with Gatehouse (the spec's
 * "Payment processing by using the Paypal SDK and Gate API"):
 *
 *   browser: PayPal button -> createOrder() -> POST /api/orders (this server)
 *   this server: signed Gate sale -> Gatehouse answers "accepted"
 *   Gatehouse: creates the PayPal order, sends the intermediate callback (code 9999)
 *              to POST /callbacks here; operation.provider.payment_id is the PayPal order id
 *   this server: answers createOrder() with that order id -> PayPal opens its approval window
 *   PayPal -> Gatehouse (webhook): approved -> Gatehouse captures -> final callback here
 *   browser: onApprove() polls GET /api/orders/<payment_id> until the result is final
 *
 * Only Node's standard library: node:http, node:crypto, node:fs.
 * Run: PROJECT_ID=1001 SECRET_KEY=... node examples/paypal-js-sdk/server.mjs
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3000);
const settings = {
  gatehouseUrl: (process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, ''),
  projectId: Number(process.env.PROJECT_ID ?? 0),
  secretKey: process.env.SECRET_KEY ?? '',
  // Where Gatehouse reaches this server (callbacks) and where customers come back to.
  shopUrl: (process.env.SHOP_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, ''),
  // Production: the platform's PayPal client id and your PayPal merchant id (see README).
  paypalClientId: process.env.PAYPAL_CLIENT_ID ?? '',
  paypalMerchantId: process.env.PAYPAL_MERCHANT_ID ?? '',
};

/** Bounds: request bodies, how long createOrder waits for the intermediate callback, how many payments are remembered. */
const bodyBytesMax = 64 * 1024;
const intermediateWaitMs = 15_000;
const paymentsRememberedMax = 10_000;

// ------------------------------------------------------------------ signatures

/**
 * The ecommpay signature as the official npm SDK computes it: every scalar
 * leaf as `path:value` (keys sorted level by level, booleans as 1/0, null as
 * empty), joined with `;`, then base64(HMAC-SHA512(secret, text)).
 */
function stringToSign(value, prefix = '') {
  const parts = [];
  for (const key of Object.keys(value).sort()) {
    let item = value[key];
    const path = prefix ? `${prefix}:${key}` : key;
    if (item === null || item === undefined) item = '';
    if (typeof item === 'object') {
      const nested = stringToSign(item, path);
      if (nested) parts.push(nested);
      continue;
    }
    if (typeof item === 'boolean') item = item ? 1 : 0;
    parts.push(`${path}:${item}`);
  }
  return parts.join(';');
}

export function sign(message, secret) {
  return createHmac('sha512', secret).update(stringToSign(message), 'utf8').digest('base64');
}

export function signGateRequest(body, secret) {
  const { signature: _ignored, ...general } = body.general;
  const unsigned = { ...body, general };
  return { ...unsigned, general: { ...general, signature: sign(unsigned, secret) } };
}

export function verifyCallback(body, secret) {
  const { signature, ...unsigned } = body ?? {};
  if (typeof signature !== 'string') return false;
  const expected = Buffer.from(sign(unsigned, secret));
  const received = Buffer.from(signature);
  return expected.length === received.length && timingSafeEqual(expected, received);
}

// ------------------------------------------------------------------ callbacks received

/** payment_id -> the latest intermediate and final callbacks (a real shop keeps these in its database). */
const payments = new Map();
const waiters = new Set();

function recordCallback(body) {
  const paymentId = body.payment?.id;
  if (typeof paymentId !== 'string') return;
  const entry = payments.get(paymentId) ?? { intermediate: undefined, final: undefined };
  if (body.operation?.code === '9999') entry.intermediate = body;
  else entry.final = body;
  if (!payments.has(paymentId) && payments.size >= paymentsRememberedMax) payments.delete(payments.keys().next().value);
  payments.set(paymentId, entry);
  for (const waiter of [...waiters]) waiter();
}

function waitFor(check, timeoutMs) {
  return new Promise((resolve) => {
    const done = () => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      waiters.delete(done);
      resolve(value);
    };
    const timer = setTimeout(() => {
      waiters.delete(done);
      resolve(undefined);
    }, timeoutMs);
    waiters.add(done);
    done();
  });
}

// ------------------------------------------------------------------ Gate

async function gate(path, body) {
  const response = await fetch(`${settings.gatehouseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signGateRequest(body, settings.secretKey)),
  });
  return { status: response.status, json: await response.json() };
}

/** Starts a Gate sale and waits for the intermediate callback that carries the PayPal order id. */
async function createOrder({ amount, currency }, customerIp) {
  const paymentId = `shop-order-${randomUUID()}`;
  const accepted = await gate('/v2/payment/wallet/paypal/sale', {
    general: { project_id: settings.projectId, payment_id: paymentId, merchant_callback_url: `${settings.shopUrl}/callbacks` },
    payment: { amount, currency, description: 'PayPal JS SDK example' },
    customer: { id: 'example-customer', ip_address: customerIp },
    // Used when the customer is redirected (the fallback button below); the JS SDK flow stays on this page.
    return_url: { success: `${settings.shopUrl}/done?payment_id=${paymentId}`, decline: `${settings.shopUrl}/done?payment_id=${paymentId}` },
  });
  if (accepted.status !== 200 || accepted.json.status !== 'success') return { error: accepted.json };
  const intermediate = await waitFor(() => payments.get(paymentId)?.intermediate ?? payments.get(paymentId)?.final, intermediateWaitMs);
  if (!intermediate) return { error: { message: 'no callback from Gatehouse yet: is SHOP_URL reachable from it?' } };
  if (intermediate.operation.code !== '9999') return { error: { message: intermediate.operation.message, code: intermediate.operation.code } };
  return {
    paymentId,
    // The spec: "use the order identifier on the Paypal service side (orderID)... specified in operation.provider.payment_id".
    orderId: intermediate.operation.provider.payment_id,
    approvalUrl: intermediate.redirect_data?.url,
  };
}

function paymentState(paymentId) {
  const entry = payments.get(paymentId);
  const latest = entry?.final ?? entry?.intermediate;
  if (!latest) return { payment_id: paymentId, status: 'unknown', final: false };
  return { payment_id: paymentId, status: latest.payment.status, code: latest.operation.code, message: latest.operation.message, final: Boolean(entry.final) };
}

// ------------------------------------------------------------------ HTTP

function send(response, status, body, type = 'application/json; charset=utf-8') {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function readJson(request) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > bodyBytesMax) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve(undefined);
      }
    });
    request.on('error', () => resolve(undefined));
  });
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function customerIpOf(request) {
  return (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

export const server = createServer(async (request, response) => {
  try {
    const url = new URL(request.url ?? '/', settings.shopUrl);
    if (request.method === 'GET' && url.pathname === '/') {
      return send(response, 200, await readFile(new URL('./index.html', import.meta.url), 'utf8'), 'text/html; charset=utf-8');
    }
    if (request.method === 'GET' && url.pathname === '/config') {
      return send(response, 200, { paypalClientId: settings.paypalClientId, paypalMerchantId: settings.paypalMerchantId });
    }
    if (request.method === 'POST' && url.pathname === '/api/orders') {
      const body = await readJson(request);
      const amount = body?.amount;
      const currency = body?.currency;
      if (!Number.isSafeInteger(amount) || amount <= 0 || typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
        return send(response, 400, { error: { message: 'amount (minor units) and currency (ISO 4217) are required' } });
      }
      const order = await createOrder({ amount, currency }, customerIpOf(request));
      return send(response, order.error ? 502 : 200, order);
    }
    const statusMatch = /^\/api\/orders\/([A-Za-z0-9-]{1,100})$/.exec(url.pathname);
    if (request.method === 'GET' && statusMatch) return send(response, 200, paymentState(statusMatch[1]));
    if (request.method === 'POST' && url.pathname === '/callbacks') {
      const body = await readJson(request);
      // Only 200 counts as delivered: a callback we cannot verify is refused, so it is never trusted.
      if (!verifyCallback(body, settings.secretKey)) return send(response, 400, { error: 'bad signature' });
      recordCallback(body);
      return send(response, 200, 'OK', 'text/plain; charset=utf-8');
    }
    if (request.method === 'GET' && url.pathname === '/done') {
      const state = paymentState(url.searchParams.get('payment_id') ?? '');
      const refresh = state.final ? '' : '<meta http-equiv="refresh" content="2">';
      return send(
        response,
        200,
        `<!doctype html><html lang="en"><head><meta charset="utf-8">${refresh}<title>Order</title></head><body><h1>Order ${escapeHtml(state.payment_id)}</h1><p>Status: <strong>${escapeHtml(state.status)}</strong></p><p><a href="/">Back to the shop</a></p></body></html>`,
        'text/html; charset=utf-8',
      );
    }
    return send(response, 404, { error: 'not found' });
  } catch (error) {
    console.error(error);
    return send(response, 500, { error: 'internal error' });
  }
});

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  if (!settings.projectId || !settings.secretKey) {
    console.error('Set PROJECT_ID and SECRET_KEY (npm start prints the demo project\'s).');
    process.exit(1);
  }
  server.listen(port, () => console.log(`Shop on ${settings.shopUrl} (Gatehouse at ${settings.gatehouseUrl}, project ${settings.projectId})`));
}
