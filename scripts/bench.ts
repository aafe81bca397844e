import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { createPool } from '../src/store/db.ts';
import { createProject, type Project } from '../src/store/projects.ts';
import { runCallbackBurst, type BurstResult } from './bench/burst.ts';
import { measureCeiling, type CeilingResult } from './bench/ceiling.ts';
import { cpuSnapshot, cpuUse, type CpuUse } from './bench/cpu.ts';
import {
  counterDelta,
  createBenchDatabase,
  localPostmasterPid,
  readCounters,
  readStatementStatistics,
  resetStatementStatistics,
  type BenchDatabase,
  type CounterDelta,
  type StatementCount,
} from './bench/database.ts';
import { runAcceptLevel, runCompletePhase, runOnePayment, type AcceptResult, type CompleteResult, type GateTarget } from './bench/gate-load.ts';
import { Merchant } from './bench/merchant.ts';
import { startPlatformProcess, startScriptNodeFlags, type PlatformProcess } from './bench/platform-process.ts';
import { freePort } from './bench/ports.ts';
import { fixed, table, whole } from './bench/report.ts';
import { audit, type Audit } from './bench/verify.ts';

/**
 * `npm run bench` (add `-- --quick` for the < 60 s version CI runs, `--
 * --profile` to record the platform's CPU profile): the platform's
 * throughput, latency and memory on this machine, against a real
 * PostgreSQL, loopback only, bounded in count and time. docs/performance.md
 * explains the method and the numbers. Speed is reported, never asserted.
 * Exit code 1: the audit found a duplicate or a count mismatch, or (full run
 * only) accepted work still unfinished at the end; 2: the run itself failed.
 */
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const profile = argv.includes('--profile');
const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Plan {
  warmupMs: number;
  acceptLevels: { clients: number; requestsMax: number; durationMs: number }[];
  /** Bound on waiting for accepted payments to finish before the next phase. */
  drainTimeoutMs: number;
  completeInFlight: number;
  completeDurationMs: number;
  completeWarmupMs: number;
  burstCount: number;
  burstTimeoutMs: number;
  ceilingDurationMs: number;
  /** PostgreSQL's per-table statistics lag up to 10 s behind idle connections; the full run waits for them. */
  statisticsSettleMs: number;
  /**
   * Waits for slow work stop here (from the bench's start), so a platform
   * that cannot keep up still gets its report in time; the ceiling, the
   * audit and the shutdown come after.
   */
  waitingBudgetMs: number;
  /** Whatever hangs, the run ends by itself after this. */
  hardLimitMs: number;
}

const plan: Plan = quick
  ? {
      warmupMs: 1_000,
      // Small counts: every level's payments must finish before the next phase, inside the minute.
      acceptLevels: [
        { clients: 1, requestsMax: 40, durationMs: 1_000 },
        { clients: 8, requestsMax: 80, durationMs: 1_000 },
        { clients: 32, requestsMax: 100, durationMs: 1_000 },
        { clients: 64, requestsMax: 100, durationMs: 1_000 },
      ],
      drainTimeoutMs: 10_000,
      completeInFlight: 32,
      completeDurationMs: 7_000,
      completeWarmupMs: 1_500,
      burstCount: 1_000,
      burstTimeoutMs: 10_000,
      ceilingDurationMs: 3_000,
      statisticsSettleMs: 0,
      waitingBudgetMs: 32_000,
      hardLimitMs: 120_000,
    }
  : {
      warmupMs: 3_000,
      acceptLevels: [
        { clients: 1, requestsMax: 1_000, durationMs: 10_000 },
        { clients: 8, requestsMax: 2_000, durationMs: 10_000 },
        { clients: 32, requestsMax: 3_000, durationMs: 10_000 },
        { clients: 64, requestsMax: 3_000, durationMs: 10_000 },
      ],
      drainTimeoutMs: 180_000,
      completeInFlight: 32,
      completeDurationMs: 30_000,
      completeWarmupMs: 5_000,
      burstCount: 10_000,
      burstTimeoutMs: 300_000,
      ceilingDurationMs: 10_000,
      statisticsSettleMs: 11_000,
      waitingBudgetMs: 1_200_000,
      hardLimitMs: 1_500_000,
    };

/** Commits of one sale measured on a platform that finishes its payments (docs/performance.md); used only when this run's could not be measured. */
const fallbackCommitsPerPayment = 22;

/** The platform's pool size (DATABASE_POOL_SIZE, default 16): the ceiling loop uses as many connections. */
const poolSize = Number(process.env.DATABASE_POOL_SIZE || 16);
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

let database: BenchDatabase | undefined;
let platform: PlatformProcess | undefined;
let merchant: Merchant | undefined;
let pool: pg.Pool | undefined;
let workDir: string | undefined;

const watchdog = setTimeout(() => {
  log(`gave up after ${plan.hardLimitMs / 1000} s`);
  void cleanUp().finally(() => process.exit(2));
}, plan.hardLimitMs);

async function cleanUp(): Promise<void> {
  await merchant?.stop().catch(() => undefined);
  await pool?.end().catch(() => undefined);
  await platform?.stop().catch(() => undefined);
  await database?.drop().catch(() => undefined);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

const benchStartedAt = Date.now();

/** A wait of at most `timeoutMs`, cut to what is left of the waiting budget (but at least `floorMs`). */
function bounded(timeoutMs: number, floorMs = 500): number {
  return Math.max(floorMs, Math.min(timeoutMs, benchStartedAt + plan.waitingBudgetMs - Date.now()));
}

/** The burst is written by this process, so the platform's workers find it at their next poll (2 s): never wait less than this. */
const burstWaitFloorMs = 8_000;

/** Waits (bounded) until every accepted payment has had its final callback. */
async function drain(timeoutMs: number): Promise<{ seconds: number; complete: boolean }> {
  timeoutMs = bounded(timeoutMs);
  const startedAt = Date.now();
  for (;;) {
    const counts = merchant!.counts();
    if (counts.finished >= counts.accepted) return { seconds: (Date.now() - startedAt) / 1000, complete: true };
    if (Date.now() - startedAt > timeoutMs) return { seconds: (Date.now() - startedAt) / 1000, complete: false };
    await sleep(50);
  }
}

/**
 * Waits (bounded) until the PayPal sandbox has delivered every webhook it
 * owes: its events about the payments of the phase before (captures,
 * approvals) are that phase's work, and the sandbox delivers them after the
 * payments' final callbacks. A level started while they still arrived
 * measured the platform receiving them (up to 80 per 50 ms in a probe)
 * along with its own requests. Returns the seconds waited.
 */
async function sandboxQuiet(timeoutMs: number): Promise<number> {
  timeoutMs = bounded(timeoutMs);
  const startedAt = Date.now();
  while (Date.now() - startedAt <= timeoutMs) {
    const { rows } = await pool!.query<{ owed: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM paypal_sandbox.webhook_deliveries WHERE next_attempt_at IS NOT NULL) AS owed',
    );
    if (!rows[0].owed) break;
    await sleep(50);
  }
  return (Date.now() - startedAt) / 1000;
}

interface AcceptRow extends AcceptResult {
  drainSeconds: number;
  drained: boolean;
  cpu: CpuUse;
}

async function main(): Promise<number> {
  workDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-run-'));
  const profileDir = profile ? join(repositoryRoot, 'artifacts', 'profiles', new Date().toISOString().replace(/[:.]/g, '-')) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}`;
  log(`${quick ? 'quick' : 'full'} run on ${machine}`);

  database = await createBenchDatabase();
  log(`database: ${database.description}`);
  merchant = new Merchant();
  await merchant.start();
  const port = await freePort();
  platform = await startPlatformProcess({ repositoryRoot, port, databaseUrl: database.connectionString, workDir, cpuProfileDir: profileDir, startTimeoutMs: 60_000 });
  log(`platform pid ${platform.pid} on ${platform.url}`);

  pool = createPool(database.connectionString, 4);
  const postmasterPid = await localPostmasterPid(pool);
  const cpuNow = () => cpuSnapshot(platform?.pid, postmasterPid);
  const flowProject: Project = await createProject(pool, { name: 'bench', mode: 'test', callbackUrl: merchant.url });
  const burstProject: Project = await createProject(pool, { name: 'bench burst', mode: 'test', callbackUrl: merchant.url });
  merchant.knowProject(Number(flowProject.id), flowProject.secretKey);
  merchant.knowProject(Number(burstProject.id), burstProject.secretKey);
  const target: GateTarget = { url: platform.url, projectId: Number(flowProject.id), secretKey: flowProject.secretKey };

  // Warm-up (JIT, pools, the sandbox's OAuth token): audited, not measured.
  await runCompletePhase(target, merchant, { inFlight: 4, durationMs: plan.warmupMs, warmupMs: 0, paymentTimeoutMs: bounded(30_000), paymentIdPrefix: 'warmup' });
  const warmupDrain = await drain(plan.drainTimeoutMs);
  if (!warmupDrain.complete) log('warm-up payments did not finish; the numbers below will be poor');

  const acceptRows: AcceptRow[] = [];
  for (const level of plan.acceptLevels) {
    // Bounded by the sandbox's retry schedule (1, 5, 25 s), should a webhook be refused.
    const quietSeconds = await sandboxQuiet(Math.min(plan.drainTimeoutMs, 35_000));
    if (quietSeconds > 1) log(`accept, ${level.clients} clients: the sandbox's webhooks of the work before took ${fixed(quietSeconds)} s to arrive`);
    const cpuBefore = cpuNow();
    const result = await runAcceptLevel(target, merchant, { ...level, paymentIdPrefix: `accept-${level.clients}` });
    const cpu = cpuUse(cpuBefore, cpuNow());
    const drained = await drain(plan.drainTimeoutMs);
    acceptRows.push({ ...result, drainSeconds: drained.seconds, drained: drained.complete, cpu });
    log(
      `accept, ${level.clients} clients: ${fixed(result.perSecond)}/s, p50 ${fixed(result.p50Ms)} ms, p99 ${fixed(result.p99Ms)} ms; ` +
        `${result.accepted} processed behind in ${fixed(drained.seconds)} s${drained.complete ? '' : ' (NOT finished)'}`,
    );
  }

  await sleep(plan.statisticsSettleMs);
  const countingStatements = await resetStatementStatistics(pool);
  const countersBefore = await readCounters(pool);
  const cpuBeforeComplete = cpuNow();
  const acceptedBefore = merchant.counts().accepted;
  const complete: CompleteResult = await runCompletePhase(target, merchant, {
    inFlight: plan.completeInFlight,
    durationMs: plan.completeDurationMs,
    warmupMs: plan.completeWarmupMs,
    paymentTimeoutMs: bounded(60_000),
    paymentIdPrefix: 'complete',
  });
  const completeDrain = await drain(plan.drainTimeoutMs);
  const completeCpu = cpuUse(cpuBeforeComplete, cpuNow());
  await sleep(plan.statisticsSettleMs);
  const flowPayments = merchant.counts().accepted - acceptedBefore;
  const completeCounters: CounterDelta = counterDelta(countersBefore, await readCounters(pool));
  const statements: StatementCount[] | undefined = countingStatements ? await readStatementStatistics(pool) : undefined;
  const perPayment = (value: number) => value / Math.max(1, flowPayments);
  const commitsPerPayment = perPayment(completeCounters.writeTransactions);
  log(
    `complete: ${fixed(complete.perSecond)}/s, lag p50 ${fixed(complete.lagP50Ms)} ms, p99 ${fixed(complete.lagP99Ms)} ms; ` +
      `${fixed(commitsPerPayment)} commits per payment${completeDrain.complete ? '' : ' (NOT all finished)'}`,
  );

  // The burst's callbacks report a real payment of their own project.
  const burstTarget: GateTarget = { url: platform.url, projectId: Number(burstProject.id), secretKey: burstProject.secretKey };
  const burstSourcePaymentId = 'burst-source';
  if (!(await runOnePayment(burstTarget, merchant, burstSourcePaymentId, bounded(plan.drainTimeoutMs)))) log('the burst source payment did not finish in time');
  const cpuBeforeBurst = cpuNow();
  const burst: BurstResult = await runCallbackBurst(pool, burstProject, burstSourcePaymentId, merchant, {
    count: plan.burstCount,
    timeoutMs: bounded(plan.burstTimeoutMs, burstWaitFloorMs),
  });
  const burstCpu = cpuUse(cpuBeforeBurst, cpuNow());
  log(`burst: ${burst.delivered} of ${burst.count} callbacks in ${fixed(burst.deliverSeconds)} s`);

  await drain(plan.drainTimeoutMs);
  const auditResult: Audit = await audit(pool, flowProject.id, burstProject.id, merchant.counts(), plan.burstCount);
  await pool.end();
  pool = undefined;
  const peakRssMebibytes = platform.peakRssMebibytes();
  const exitCode = await platform.stop();
  platform = undefined;
  if (exitCode !== 0) auditResult.violations.push(`the platform exited with code ${exitCode} on SIGTERM`);
  await merchant.stop();
  merchant = undefined;

  // The ceiling runs last, with the platform stopped: PostgreSQL and the raw loop alone on the machine.
  // Commits per payment can only be measured when the payments finished; otherwise the flow's usual count stands in.
  const ceilingCommitsPerPayment = completeDrain.complete ? Math.max(1, Math.round(commitsPerPayment)) : fallbackCommitsPerPayment;
  const ceiling: CeilingResult = await measureCeiling(database.connectionString, {
    poolSize,
    commitsPerPayment: ceilingCommitsPerPayment,
    durationMs: plan.ceilingDurationMs,
    postmasterPid,
  });
  const ceilingCpu = ceiling.cpu;
  const databaseDescription = database.description;
  await database.drop();
  database = undefined;
  rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;

  const noise = (cpu: CpuUse) => `others ${fixed(cpu.otherCores, 2)} cores`;
  const accept32 = acceptRows.find((row) => row.clients === 32);
  const acceptBest = Math.max(...acceptRows.map((row) => row.perSecond));
  const rows: string[][] = [
    ['measure', 'result', 'detail'],
    [
      'ceiling',
      `${fixed(ceiling.paymentsPerSecond)} payments/s`,
      `raw pg loop, ${ceiling.poolSize} connections: ${whole(ceiling.commitsPerSecond)} durable commits/s / ${ceiling.commitsPerPayment} per payment` +
        `${completeDrain.complete ? '' : ' (the usual count: this run could not measure it)'}; ` +
        `${fixed(ceiling.walFlushesPerCommit, 2)} WAL flushes per commit; PostgreSQL ${fixed(ceilingCpu.postgresCores, 2)} cores, ${noise(ceilingCpu)}`,
    ],
    ...acceptRows.map((row) => [
      `accept, ${row.clients} client${row.clients === 1 ? '' : 's'}`,
      `${fixed(row.perSecond)} sales/s`,
      `p50 ${fixed(row.p50Ms)} ms, p99 ${fixed(row.p99Ms)} ms, max ${fixed(row.maxMs)} ms; ${row.accepted} accepted, ${row.errors} errors; ` +
        `platform ${fixed(row.cpu.platformCores, 2)} + PostgreSQL ${fixed(row.cpu.postgresCores, 2)} cores, ${noise(row.cpu)}; ` +
        `all processed behind in ${fixed(row.drainSeconds)} s${row.drained ? '' : ' (NOT finished)'}`,
    ]),
    [
      'complete',
      `${fixed(complete.perSecond)} payments/s`,
      `request to final callback p50 ${fixed(complete.lagP50Ms)} ms, p99 ${fixed(complete.lagP99Ms)} ms, max ${fixed(complete.lagMaxMs)} ms; ` +
        `${complete.inFlight} customers, ${complete.completedInWindow} payments in ${fixed(complete.windowSeconds, 0)} s; ${noise(completeCpu)}`,
    ],
    ...(completeDrain.complete
      ? [
          [
            'commits per payment',
            fixed(commitsPerPayment),
            `write transactions (the PayPal sandbox's included) over ${flowPayments} payments; ${fixed(perPayment(completeCounters.walSyncs))} WAL flushes, ` +
              `${whole(perPayment(completeCounters.walBytes))} WAL bytes` +
              (plan.statisticsSettleMs > 0 ? `, ${fixed(perPayment(completeCounters.commits))} transactions incl. read-only` : ''),
          ],
          [
            'CPU per payment',
            `${fixed(perPayment(completeCpu.platformSeconds * 1000))} + ${fixed(perPayment(completeCpu.postgresSeconds * 1000))} ms`,
            `platform process (sandbox included) + PostgreSQL, complete phase: ${fixed(completeCpu.platformCores, 2)} + ${fixed(completeCpu.postgresCores, 2)} cores busy`,
          ],
          [
            'sizing',
            `${fixed(1000 / perPayment(completeCpu.platformSeconds * 1000))} payments/s per app core`,
            `${fixed(1000 / perPayment(completeCpu.postgresSeconds * 1000))} per PostgreSQL core; ${fixed(ceiling.commitsPerSecond / Math.max(1, commitsPerPayment))} per this disk's ` +
              `${whole(ceiling.commitsPerSecond)} commits/s (each a full core's or the disk's worth, before the other runs out)`,
          ],
        ]
      : [['commits, CPU, sizing', 'not measured', "the complete phase's payments did not finish within the run's bounds"]]),
    [
      'callback burst',
      `${fixed(burst.deliverSeconds)} s`,
      `${burst.delivered} of ${burst.count} delivered${burst.timedOut ? ' (TIMED OUT)' : ''}, ${fixed(burst.perSecond)}/s; queued in ${fixed(burst.enqueueSeconds)} s; ` +
        `platform ${fixed(burstCpu.platformCores, 2)} cores, ${noise(burstCpu)}`,
    ],
    ['peak RSS', `${fixed(peakRssMebibytes)} MiB`, 'platform process, VmHWM from /proc/<pid>/status'],
    [
      'audit',
      auditResult.violations.length > 0 ? 'FAILED' : auditResult.unfinished.length > 0 ? (quick ? 'unfinished' : 'FAILED') : 'ok',
      `${auditResult.paymentsInDatabase} payments: ${auditResult.successful} success, ${auditResult.notFinal} not final, ` +
        `${auditResult.withoutFinalCallbackRow} without and ${auditResult.withSeveralFinalCallbackRows} with several final callbacks, ` +
        `${auditResult.merchant.duplicateFinals} duplicate finals received; ${auditResult.failedAttempts} failed callback attempts`,
    ],
  ];
  const nodeFlags = startScriptNodeFlags(repositoryRoot).join(' ') || 'none';
  const header =
    `Gatehouse bench (${quick ? 'quick' : 'full'}): ${machine}; ${databaseDescription.replace(/ in \/.*$/, '')}, pool ${poolSize}; ` +
    `platform Node flags: ${nodeFlags}; ${fixed((Date.now() - benchStartedAt) / 1000, 0)} s`;
  process.stdout.write(`\n${header}\n\n${table(rows)}\n`);
  if (plan.statisticsSettleMs > 0) process.stdout.write(`\nrow writes per payment, complete phase (inserts + updates + deletes):\n${rowWriteLines(completeCounters, flowPayments)}\n`);
  if (statements && completeDrain.complete) process.stdout.write(`\n${statementLines(statements, flowPayments)}\n`);
  for (const violation of auditResult.violations) process.stdout.write(`audit: ${violation}\n`);
  for (const unfinished of auditResult.unfinished) process.stdout.write(`audit: ${unfinished}${quick ? ' (not finished within the quick run; not asserted)' : ''}\n`);
  if (profileDir) process.stdout.write(`\nplatform CPU profile: ${readdirSync(profileDir).map((file) => join(profileDir, file)).join(', ')}\n  summary: npx tsx scripts/bench/profile-summary.ts <file>\n`);
  process.stdout.write(
    `\nbench: accept_ratio=${fixed(acceptBest / ceiling.paymentsPerSecond, 2)} complete_ratio=${fixed(complete.perSecond / ceiling.paymentsPerSecond, 2)} p99_ms=${fixed(accept32?.p99Ms ?? Number.NaN)}\n`,
  );
  const failed = auditResult.violations.length > 0 || (!quick && auditResult.unfinished.length > 0);
  return failed ? 1 : 0;
}

/** Statements per payment in the complete phase (pg_stat_statements; the bench's own few included). */
function statementLines(statements: StatementCount[], payments: number): string {
  const total = statements.reduce((sum, statement) => sum + statement.calls, 0);
  const milliseconds = statements.reduce((sum, statement) => sum + statement.milliseconds, 0);
  const lines = statements
    .slice(0, 40)
    .map((statement) => `  ${fixed(statement.calls / Math.max(1, payments), 2).padStart(6)}  ${statement.query.slice(0, 110)}`);
  return [
    `statements per payment, complete phase: ${fixed(total / Math.max(1, payments))} (${fixed(milliseconds / Math.max(1, payments), 2)} ms of execution and planning in PostgreSQL)`,
    ...lines,
  ].join('\n');
}

function rowWriteLines(delta: CounterDelta, payments: number): string {
  return [...delta.rowWrites.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, writes]) => `  ${name.padEnd(44)} ${fixed(writes / Math.max(1, payments), 2)}`)
    .join('\n');
}

try {
  const code = await main();
  clearTimeout(watchdog);
  process.exit(code);
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await cleanUp();
  process.exit(2);
}
