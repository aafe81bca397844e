import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { queueNames, tableWorkNames } from '../src/jobs/queue.ts';
import { logContextMixin } from '../src/observability/index.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { redactedPaths, startPlatform, type Platform } from '../src/platform.ts';
import { signGateRequest } from '../src/signature/index.ts';
import { createProject, type Project } from '../src/store/projects.ts';
import { createTestDatabase, stopTestServer, type TestDatabase } from './support/database.ts';
import { actAtApprovalPage, freePort, saleBody, startCallbackReceiver, type CallbackReceiver } from './support/platform.ts';

/**
 * Metrics, readiness and request ids on a real node whose JSON log lines
 * this test reads (the node logs through the platform's own logger options,
 * into a buffer instead of stdout).
 */
let database: TestDatabase;
let platform: Platform;
let receiver: CallbackReceiver;
let project: Project;
let baseUrl: string;
const logLines: Record<string, any>[] = [];

before(async () => {
  database = await createTestDatabase();
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    port,
    host: '127.0.0.1',
    databaseUrl: database.connectionString,
    publicUrl: baseUrl,
    publicGateUrl: baseUrl,
    publicSandboxUrl: `${baseUrl}/sandbox/paypal`,
    jobPollingIntervalSeconds: 0.5,
    providerTimeoutMs: 2_000,
    callbackTimeoutMs: 2_000,
    callbackScheduleScale: 0.05,
    seedDemoProject: false,
    logLevel: 'info',
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
      done();
    },
  });
  const log = pino({ level: 'info', redact: { paths: redactedPaths, censor: '***' }, mixin: logContextMixin }, sink);
  platform = await startPlatform(config, log);
  receiver = await startCallbackReceiver();
  project = await createProject(platform.context.pool, { name: 'observability', mode: 'test', callbackUrl: receiver.url });
});
after(async () => {
  await platform?.stop();
  await receiver?.stop();
  await database?.drop();
  await stopTestServer();
});

async function gate(path: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(signGateRequest(body, project.secretKey)),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, any> };
}

async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await sleep(50);
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

/** Parses Prometheus text into `name{labels}` -> value. */
async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(`${baseUrl}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

test('a request id travels from x-request-id into the access log (beside the Gate answer request_id) and the callback delivery log', async () => {
  const paymentId = `obs-${Date.now()}`;
  const sale = await gate('/v2/payment/wallet/paypal/sale', saleBody(project.id, paymentId), { 'x-request-id': 'merchant-trace-0001' });
  assert.equal(sale.status, 200);
  assert.equal(sale.headers.get('x-request-id'), 'merchant-trace-0001');

  const access = await eventually(() => logLines.find((line) => line.msg === 'request completed' && line.request_id === 'merchant-trace-0001'), 'the access log line');
  assert.equal(access.route, '/v2/payment/wallet/:method/sale');
  assert.equal(access.status_code, 200);
  assert.equal(access.gate_request_id, sale.json.request_id);
  assert.equal(typeof access.duration_ms, 'number');
  assert.equal(access.level, 30);

  // The intermediate callback is delivered by a job two jobs away from the request; it logs the same id.
  const delivery = await eventually(
    () => logLines.find((line) => line.msg === 'callback delivery attempt' && line.request_id === 'merchant-trace-0001'),
    'the callback delivery log line',
  );
  assert.equal(delivery.http_status, 200);
  assert.equal(delivery.job_queue, tableWorkNames.callbackDeliver);
  assert.equal(delivery.callback_status, 'delivered');

  // An id that is not a plain token is replaced, never logged as sent.
  const odd = await gate('/v2/payment/status', { general: { project_id: Number(project.id), payment_id: paymentId } }, { 'x-request-id': 'has spaces; and="quotes"' });
  assert.match(odd.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const generated = await fetch(`${baseUrl}/health`);
  assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  assert.ok(!logLines.some((line) => JSON.stringify(line).includes(project.secretKey)), 'no secret key in any log line');
});

test('/metrics: requests by route and code, latency, Gate error codes, payments by status, callbacks, jobs, the pool', async () => {
  const paymentId = `obs-metrics-${Date.now()}`;
  assert.equal((await gate('/v2/payment/wallet/paypal/sale', saleBody(project.id, paymentId))).status, 200);
  const duplicate = await gate('/v2/payment/wallet/paypal/sale', saleBody(project.id, paymentId));
  assert.equal(duplicate.json.code, '3041');
  const intermediate = await eventually(() => receiver.callbacks.find((callback) => callback.body.payment.id === paymentId)?.body, 'the intermediate callback');
  await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
  await eventually(() => receiver.callbacks.find((callback) => callback.body.payment.id === paymentId && callback.body.operation.status === 'success'), 'the final callback');
  // A job whose handler throws is counted as a failure (pg-boss retries it).
  await platform.context.queue.send(queueNames.operationPoll, { operationId: 'not-a-number' });
  platform.context.queue.wake(queueNames.operationPoll);

  const samples = await eventually(async () => {
    const scraped = await scrape();
    const failures = scraped.get('gatehouse_job_failures_total{queue="operation-poll"}') ?? 0;
    const delivered = scraped.get('gatehouse_callback_attempts_total{result="delivered"}') ?? 0;
    return failures >= 1 && delivered >= 2 ? scraped : undefined;
  }, 'a job failure and two delivered callbacks in the metrics');

  const saleRoute = 'route="/v2/payment/wallet/:method/sale"';
  assert.ok((samples.get(`gatehouse_http_requests_total{method="POST",${saleRoute},status_code="200"}`) ?? 0) >= 1);
  assert.ok((samples.get(`gatehouse_http_requests_total{method="POST",${saleRoute},status_code="400"}`) ?? 0) >= 1);
  assert.ok((samples.get(`gatehouse_http_request_duration_seconds_count{method="POST",${saleRoute},status_code="200"}`) ?? 0) >= 1);
  assert.ok(samples.has(`gatehouse_http_request_duration_seconds_bucket{le="0.1",method="POST",${saleRoute},status_code="200"}`));
  assert.equal(samples.get(`gatehouse_gate_errors_total{${saleRoute},code="3041"}`), 1);
  assert.ok((samples.get('gatehouse_jobs_processed_total{queue="operation-execute",outcome="completed"}') ?? 0) >= 1);
  assert.ok(samples.has('gatehouse_job_duration_seconds_count{queue="callback-deliver"}'));
  assert.ok(samples.has('gatehouse_callback_queue_depth'));
  assert.ok(samples.has('gatehouse_callback_oldest_pending_age_seconds'));
  assert.ok(samples.has('gatehouse_payments{type="purchase",status="success"}'));
  assert.ok(samples.has('gatehouse_job_queue_jobs{queue="operation-execute",state="created"}'));
  assert.equal(samples.get('gatehouse_db_pool_connections{state="max"}'), platform.context.config.databasePoolSize);
  assert.ok((samples.get('gatehouse_db_pool_connections{state="total"}') ?? 0) >= 1);
  assert.ok(samples.has('gatehouse_db_pool_waiting_clients'));
  assert.ok(samples.has('gatehouse_process_cpu_seconds_total'));
});

test('cluster gauges: payments by status and the pending callback queue with the age of its oldest entry', async () => {
  // A registry of our own on the same database, without the scrape cache, so the test need not wait for it.
  const metrics = createMetrics(platform.context.pool, 4, { snapshotMaxAgeMs: 0 });
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
    const sample = (metric?.values ?? []).find((candidate) => Object.entries(labels).every(([key, wanted]) => String(candidate.labels[key]) === wanted));
    return sample?.value;
  };
  const successBefore = (await value('gatehouse_payments', { type: 'purchase', status: 'success' })) ?? 0;
  assert.ok(successBefore >= 1, 'the earlier approved sale is counted');

  receiver.respondWith = 503;
  try {
    const paymentId = `obs-pending-${Date.now()}`;
    assert.equal((await gate('/v2/payment/wallet/paypal/sale', saleBody(project.id, paymentId))).status, 200);
    await eventually(async () => ((await value('gatehouse_callback_queue_depth')) ?? 0) >= 1, 'a pending callback');
    await sleep(1_100);
    assert.ok(((await value('gatehouse_callback_oldest_pending_age_seconds')) ?? 0) >= 1);
    assert.ok(((await value('gatehouse_payments', { type: 'purchase', status: 'awaiting redirect result' })) ?? 0) >= 1);
  } finally {
    receiver.respondWith = 200;
  }
  await eventually(async () => (await value('gatehouse_callback_queue_depth')) === 0, 'the callback queue drained after the receiver recovered');
  assert.equal(await value('gatehouse_callback_oldest_pending_age_seconds'), 0);
});

test('/ready checks the database, the migrations and the job queue; /health stays a liveness probe', async () => {
  const ready = await fetch(`${baseUrl}/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: 'ok', migrations: 'ok', job_queue: 'ok' } });

  await platform.context.queue.stop();
  const stopped = await fetch(`${baseUrl}/ready`);
  assert.equal(stopped.status, 503);
  const body = (await stopped.json()) as { status: string; checks: Record<string, string> };
  assert.equal(body.status, 'not ready');
  assert.equal(body.checks.job_queue, 'stopped');
  assert.equal(body.checks.database, 'ok');
  assert.equal((await fetch(`${baseUrl}/health`)).status, 200);
});
