import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { retryDelaySeconds } from '../src/callbacks/schedule.ts';
import { redactedPaths } from '../src/platform.ts';
import { signGateRequest } from '../src/signature/index.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/store/embedded-postgres.ts';
import { createProject, type Project } from '../src/store/projects.ts';
import { createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import { fuzzHttpSurface, fuzzPaymentPage } from '../test/support/fuzz.ts';
import { killAll, startNode } from '../test/support/nodes.ts';
import { actAtApprovalPage, authBody, saleBody, startCallbackReceiver, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';

/**
 * `npm run test:reliability [-- --long] [--seed N] [--only crashes,...]`: figures for the promises
 * that matter most, each with its trial count. Short by default (CI), long on
 * demand. Every random choice comes from one seed, printed, so a failing run
 * replays. Exits non-zero when any figure shows a broken promise.
 */
const long = process.argv.includes('--long');
const seedArgument = process.argv.indexOf('--seed');
const seed = seedArgument > 0 ? Number(process.argv[seedArgument + 1]) : Number(process.env.RELIABILITY_SEED ?? Date.now() % 1_000_000);
/** `--only money,faults,fuzz,callbacks,crashes,secrets`: run just these sections (e.g. the long crash trials alone). */
const sections = ['money', 'faults', 'fuzz', 'callbacks', 'crashes', 'secrets'] as const;
type Section = (typeof sections)[number];
const onlyArgument = process.argv.indexOf('--only');
const only = onlyArgument > 0 ? new Set(process.argv[onlyArgument + 1].split(',')) : undefined;
for (const name of only ?? []) {
  if (!(sections as readonly string[]).includes(name)) throw new Error(`--only: unknown section ${name} (${sections.join(', ')})`);
}
const runs = (section: Section) => only === undefined || only.has(section);

const trials = {
  refundRaces: long ? 1_000 : 10,
  captureCancelRaces: long ? 100 : 5,
  crashes: long ? 50 : 1,
  faultsPerScenario: long ? 50 : 3,
  fuzzRequests: long ? 100_000 : 2_000,
  receiverDownSimulatedSeconds: long ? 3_600 : 120,
};

/** mulberry32: a tiny seeded PRNG, so random kill points replay. */
function seededRandom(start: number): () => number {
  let state = start >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const random = seededRandom(seed);

interface Figure {
  name: string;
  trials: number;
  values: Record<string, number>;
  ok: boolean;
}
const figures: Figure[] = [];
function report(figure: Figure): void {
  figures.push(figure);
  const values = Object.entries(figure.values).map(([key, value]) => `${key}=${value}`).join(' ');
  process.stdout.write(`${figure.ok ? 'ok  ' : 'FAIL'} ${figure.name.padEnd(34)} trials=${figure.trials} ${values}\n`);
}

const logLines: string[] = [];
const logSink = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(String(chunk));
    done();
  },
});
/** Every secret the run created, collected before its database is dropped; the logs are scanned for them at the end. */
const knownSecrets = new Set<string>();
async function rememberSecrets(pool: import('pg').Pool): Promise<void> {
  const { rows } = await pool.query<{ value: string }>(`SELECT secret_key AS value FROM projects UNION ALL SELECT value FROM settings`).catch(() => ({ rows: [] }));
  for (const row of rows) knownSecrets.add(row.value);
}

const logger = pino({ level: 'debug', redact: { paths: redactedPaths, censor: '***' } }, logSink);

async function approvedPurchase(gh: TestPlatform, project: Project, body: Record<string, any>, path: string): Promise<string> {
  const paymentId = body.general.payment_id as string;
  const response = await post(gh, project, path, body);
  if (response.status !== 200) throw new Error(`purchase refused: ${JSON.stringify(response.json)}`);
  const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999', 30_000);
  await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
  await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code !== '9999', 30_000);
  return paymentId;
}

async function post(gh: TestPlatform, project: Project, path: string, body: Record<string, any>) {
  const response = await fetch(`${gh.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signGateRequest(body, project.secretKey)),
  });
  return { status: response.status, json: await response.json() };
}

async function settled(gh: TestPlatform, paymentId: string, operations: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await gh.platform.context.pool.query(
      `SELECT count(*)::int AS n FROM operations o JOIN payments p ON p.id = o.payment_ref WHERE p.payment_id = $1 AND o.status IN ('success','decline','error','expired')`,
      [paymentId],
    );
    if (rows[0].n >= operations) return;
    await sleep(50);
  }
}

async function moneyRaces(gh: TestPlatform): Promise<void> {
  const project = gh.project;
  let exactlyTwo = 0;
  let overRefunds = 0;
  for (let trial = 0; trial < trials.refundRaces; trial += 1) {
    const paymentId = await approvedPurchase(gh, project, saleBody(project.id, `race-${seed}-${trial}`, 10_000), '/v2/payment/wallet/paypal/sale');
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        post(gh, project, '/v2/payment/wallet/paypal/refund', {
          general: { project_id: Number(project.id), payment_id: paymentId },
          payment: { amount: 4_000, currency: 'USD', description: 'race' },
        }),
      ),
    );
    const accepted = answers.filter((answer) => answer.status === 200).length;
    if (accepted === 2) exactlyTwo += 1;
    await settled(gh, paymentId, 1 + accepted);
    const { rows } = await gh.platform.context.pool.query('SELECT captured_minor, refunded_minor FROM payments WHERE payment_id = $1', [paymentId]);
    if (rows[0].refunded_minor > rows[0].captured_minor) overRefunds += 1;
  }
  report({
    name: 'money: 50 racing 40.00 refunds of 100.00',
    trials: trials.refundRaces,
    values: { exactly_two_accepted: exactlyTwo, over_refunds: overRefunds },
    ok: exactlyTwo === trials.refundRaces && overRefunds === 0,
  });

  let oneOutcome = 0;
  let extraProviderCalls = 0;
  for (let trial = 0; trial < trials.captureCancelRaces; trial += 1) {
    const paymentId = await approvedPurchase(gh, project, authBody(project.id, `hold-race-${seed}-${trial}`, 5_000), '/v2/payment/wallet/paypal/auth');
    const requests = Array.from({ length: 40 }, (_, index) =>
      post(gh, project, `/v2/payment/wallet/paypal/${index % 2 === 0 ? 'capture' : 'cancel'}`, { general: { project_id: Number(project.id), payment_id: paymentId } }),
    );
    const answers = await Promise.all(requests);
    if (answers.filter((answer) => answer.status === 200).length === 1) oneOutcome += 1;
    await settled(gh, paymentId, 2);
    const { rows } = await gh.platform.context.pool.query(
      `SELECT (SELECT count(*)::int FROM paypal_sandbox.captures c WHERE c.authorization_id = p.provider_authorization_id) AS captures,
              (SELECT a.status FROM paypal_sandbox.authorizations a WHERE a.id = p.provider_authorization_id) AS authorization_status
         FROM payments p WHERE p.payment_id = $1`,
      [paymentId],
    );
    const bothHappened = rows[0].captures > 0 && rows[0].authorization_status === 'VOIDED';
    if (rows[0].captures > 1 || bothHappened) extraProviderCalls += 1;
  }
  report({
    name: 'money: 20 captures vs 20 cancels',
    trials: trials.captureCancelRaces,
    values: { one_outcome: oneOutcome, double_provider_effects: extraProviderCalls },
    ok: oneOutcome === trials.captureCancelRaces && extraProviderCalls === 0,
  });
}

async function providerFaults(gh: TestPlatform): Promise<void> {
  const project = gh.project;
  let doubleCharges = 0;
  let stuck = 0;
  let count = 0;
  for (const ending of [2, 3, 8, 9]) {
    for (let trial = 0; trial < trials.faultsPerScenario; trial += 1) {
      count += 1;
      const paymentId = `fault-${ending}-${seed}-${trial}`;
      try {
        await approvedPurchase(gh, project, saleBody(project.id, paymentId, 1_000 + ending), '/v2/payment/wallet/paypal/sale');
      } catch {
        stuck += 1;
        continue;
      }
      const { rows } = await gh.platform.context.pool.query(
        `SELECT p.status, (SELECT count(*)::int FROM paypal_sandbox.captures c WHERE c.order_id = p.provider_order_id) AS captures FROM payments p WHERE p.payment_id = $1`,
        [paymentId],
      );
      if (rows[0].captures > 1) doubleCharges += 1;
      if (rows[0].status !== 'success') stuck += 1;
    }
  }
  report({ name: 'provider faults (pending/timeout/dup/503)', trials: count, values: { double_charges: doubleCharges, not_final: stuck }, ok: doubleCharges === 0 && stuck === 0 });
}

async function receiverDown(): Promise<void> {
  // The real schedule, compressed 10x: a simulated hour of downtime lasts six real minutes.
  const scale = 0.1;
  const gh = await startTestPlatform({ callbackScheduleScale: scale, rateLimitPerMinute: 100_000_000 }, logger);
  try {
    gh.receiver.respondWith = 500;
    const paymentIds = Array.from({ length: 5 }, (_, index) => `down-${seed}-${index}`);
    for (const paymentId of paymentIds) await post(gh, gh.project, '/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
    await sleep(trials.receiverDownSimulatedSeconds * scale * 1000);
    gh.receiver.respondWith = 200;
    const deadline = Date.now() + 4 * 3600 * scale * 1000 + 30_000;
    while (Date.now() < deadline && paymentIds.some((paymentId) => gh.callbacksFor(paymentId).length === 0)) await sleep(200);
    const delivered = paymentIds.filter((paymentId) => gh.callbacksFor(paymentId).length > 0).length;
    const { rows } = await gh.platform.context.pool.query(
      `SELECT a.callback_id, a.attempt, extract(epoch FROM a.attempted_at) AS at FROM callback_attempts a ORDER BY a.callback_id, a.attempt`,
    );
    let offSchedule = 0;
    let gaps = 0;
    for (let index = 1; index < rows.length; index += 1) {
      if (rows[index].callback_id !== rows[index - 1].callback_id) continue;
      gaps += 1;
      const expected = retryDelaySeconds(rows[index - 1].attempt) * scale;
      const actual = Number(rows[index].at) - Number(rows[index - 1].at);
      // pg-boss starts jobs on whole seconds and polls every 0.5 s.
      if (actual + 0.05 < expected || actual > Math.ceil(expected) + 2.5) offSchedule += 1;
    }
    // Then a receiver too slow to answer within the callback timeout: same promise.
    gh.receiver.respondWith = 200;
    gh.receiver.delayMs = gh.config.callbackTimeoutMs + 1_000;
    const slowIds = Array.from({ length: 3 }, (_, index) => `slow-${seed}-${index}`);
    for (const paymentId of slowIds) await post(gh, gh.project, '/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
    await sleep(8_000);
    gh.receiver.delayMs = 0;
    const slowDeadline = Date.now() + 60_000;
    while (Date.now() < slowDeadline && slowIds.some((paymentId) => gh.callbacksFor(paymentId).length === 0)) await sleep(200);
    const slowDelivered = slowIds.filter((paymentId) => gh.callbacksFor(paymentId).length > 0).length;
    report({
      name: 'callbacks: receiver timing out',
      trials: slowIds.length,
      values: { delivered: slowDelivered, lost: slowIds.length - slowDelivered },
      ok: slowDelivered === slowIds.length,
    });
    report({
      name: `callbacks: receiver down ${trials.receiverDownSimulatedSeconds}s (x${scale})`,
      trials: paymentIds.length,
      values: { delivered, lost: paymentIds.length - delivered, retry_gaps: gaps, off_schedule: offSchedule },
      ok: delivered === paymentIds.length && offSchedule === 0,
    });
  } finally {
    await rememberSecrets(gh.platform.context.pool);
    await gh.stop();
  }
}

async function fuzz(gh: TestPlatform): Promise<void> {
  const result = await fuzzHttpSurface(gh, { runs: trials.fuzzRequests, seed });
  for (const failure of result.failures.slice(0, 5)) process.stdout.write(`     ${failure}\n`);
  const page = await fuzzPaymentPage(gh, { runs: Math.round(trials.fuzzRequests / 10), seed });
  for (const failure of page.failures.slice(0, 5)) process.stdout.write(`     ${failure}\n`);
  report({
    name: 'bad input: Payment Page',
    trials: page.requests,
    values: { server_errors: page.serverErrors, payments_written: page.paymentsWritten },
    ok: page.serverErrors === 0 && page.paymentsWritten === 0,
  });
  report({
    name: 'bad input (fast-check)',
    trials: result.requests,
    values: { server_errors: result.serverErrors, undocumented: result.undocumented, written_beyond_accepted: Math.max(0, result.paymentsWritten - result.accepted) },
    ok: result.serverErrors === 0 && result.undocumented === 0 && result.paymentsWritten <= result.accepted,
  });
}

/** Two nodes under load, one killed at a seeded random moment: nothing lost, nothing twice. */
async function crashes(): Promise<void> {
  let lost = 0;
  let duplicateOrders = 0;
  let missingCallbacks = 0;
  let duplicateCallbacks = 0;
  let accepted = 0;
  for (let trial = 0; trial < trials.crashes; trial += 1) {
    const children: ChildProcess[] = [];
    const database: TestDatabase = await createTestDatabase();
    const receiver = await startCallbackReceiver();
    try {
      const project = await createProject(database.pool, { name: 'crash', mode: 'test', callbackUrl: receiver.url });
      const [victim, survivor] = await Promise.all([startNode(database.connectionString, children), startNode(database.connectionString, children)]);
      const acceptedIds = new Set<string>();
      let stop = false;
      const client = async (worker: number) => {
        for (let index = 0; !stop && index < 400; index += 1) {
          const target = index % 2 === 0 ? victim.url : survivor.url;
          const paymentId = `crash-${trial}-${worker}-${index}`;
          const response = await fetch(`${target}/v2/payment/wallet/paypal/sale`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(signGateRequest(saleBody(project.id, paymentId), project.secretKey)),
          }).catch(() => undefined);
          if (response?.status === 200) acceptedIds.add(paymentId);
        }
      };
      const clients = Array.from({ length: 6 }, (_, worker) => client(worker));
      await sleep(300 + random() * 2_000);
      victim.child.kill('SIGKILL');
      await sleep(500);
      stop = true;
      await Promise.all(clients);
      accepted += acceptedIds.size;
      const stored = new Set((await database.pool.query<{ payment_id: string }>('SELECT payment_id FROM payments')).rows.map((row) => row.payment_id));
      lost += [...acceptedIds].filter((paymentId) => !stored.has(paymentId)).length;
      const deadline = Date.now() + 60_000;
      const withCallback = () => new Set(receiver.callbacks.map((callback) => callback.body.payment?.id as string));
      while ([...stored].some((paymentId) => !withCallback().has(paymentId)) && Date.now() < deadline) await sleep(200);
      missingCallbacks += [...stored].filter((paymentId) => !withCallback().has(paymentId)).length;
      const orders = await database.pool.query(`SELECT count(*)::int AS n FROM paypal_sandbox.orders`);
      duplicateOrders += Math.max(0, orders.rows[0].n - stored.size);
      const twice = await database.pool.query(
        `SELECT count(*)::int AS n FROM (SELECT operation_id, kind FROM callbacks GROUP BY operation_id, kind HAVING count(*) > 1) AS repeated`,
      );
      duplicateCallbacks += twice.rows[0].n;
    } finally {
      killAll(children);
      await receiver.stop();
      await rememberSecrets(database.pool);
      await database.drop();
    }
  }
  report({
    name: 'crash: two nodes, one killed -9',
    trials: trials.crashes,
    values: { accepted, lost_payments: lost, duplicate_provider_orders: duplicateOrders, lost_callbacks: missingCallbacks, duplicate_callbacks: duplicateCallbacks },
    ok: lost === 0 && duplicateOrders === 0 && missingCallbacks === 0 && duplicateCallbacks === 0,
  });
}

function secrets(): void {
  const text = logLines.join('');
  const leaks = [...knownSecrets].filter((secret) => text.includes(secret)).length;
  report({ name: 'secrets in logs', trials: knownSecrets.size, values: { log_lines: logLines.length, leaks }, ok: leaks === 0 && knownSecrets.size > 0 });
}

async function main(): Promise<void> {
  process.stdout.write(`reliability: ${long ? 'long' : 'short'} run, seed ${seed} (replay: npm run test:reliability -- ${long ? '--long ' : ''}--seed ${seed}${only ? ` --only ${[...only].join(',')}` : ''})\n`);
  let embedded: EmbeddedDatabase | undefined;
  let embeddedDir: string | undefined;
  if (!process.env.DATABASE_URL) {
    embeddedDir = join(process.cwd(), '.test-data', `reliability-${process.pid}`);
    embedded = await startEmbeddedPostgres(embeddedDir, () => undefined);
    process.env.DATABASE_URL = embedded.connectionString;
  }
  try {
    const gh = await startTestPlatform({ rateLimitPerMinute: 100_000_000 }, logger);
    try {
      if (runs('money')) await moneyRaces(gh);
      if (runs('faults')) await providerFaults(gh);
      if (runs('fuzz')) await fuzz(gh);
    } finally {
      await rememberSecrets(gh.platform.context.pool);
      await gh.stop();
    }
    if (runs('callbacks')) await receiverDown();
    if (runs('crashes')) await crashes();
    if (runs('secrets')) secrets();
  } finally {
    if (embedded) await embedded.stop();
    if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true });
  }
  const failed = figures.filter((figure) => !figure.ok).length;
  process.stdout.write(`${figures.length - failed} passed, ${failed} failed\n`);
  process.exit(failed === 0 ? 0 : 1);
}

await main();
