import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IntakePressure } from '../jobs/intake-pressure.ts';
import { paymentStatuses } from '../domain/statuses.ts';
import { queueNames } from '../jobs/queue.ts';
import { withTransaction } from '../store/db.ts';

/**
 * Prometheus metrics of one node, in a registry of its own (tests run
 * several nodes in one process). Counters and histograms are this node's;
 * the gauges read from PostgreSQL (payments by status, callback queue, job
 * queues) describe the whole cluster, so any one node's value will do.
 *
 * Names follow Prometheus conventions: `gatehouse_` prefix, base units
 * (seconds), `_total` on counters.
 */
export interface PlatformMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status_code'>;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  gateErrors: Counter<'route' | 'code'>;
  jobsProcessed: Counter<'queue' | 'outcome'>;
  jobFailures: Counter<'queue'>;
  jobDuration: Histogram<'queue'>;
  callbackAttempts: Counter<'result'>;
  callbackAttemptDuration: Histogram<'result'>;
}

/** How long a database snapshot serves scrapes: counting rows is cheap but not free. */
export const databaseSnapshotMaxAgeMs = 5_000;
/** A scrape never waits on a slow database for longer than this. */
const snapshotStatementTimeoutMs = 2_000;

const paymentTypes = ['purchase', 'payout', 'recurring'] as const;
const jobStates = ['created', 'retry', 'active'] as const;

interface DatabaseSnapshot {
  payments: { type: string; status: string; count: number }[];
  callbacksPending: number;
  oldestPendingCallbackAgeSeconds: number;
  jobs: { queue: string; state: string; count: number }[];
}

/**
 * Reads the cluster-wide numbers at most once per `maxAgeMs`; concurrent
 * scrapes share one read. A failed read is counted and the gauges keep their
 * last values.
 */
function cachedSnapshot(pool: pg.Pool, maxAgeMs: number, onError: () => void): () => Promise<DatabaseSnapshot | undefined> {
  let cached: { at: number; snapshot: Promise<DatabaseSnapshot | undefined> } | undefined;
  return () => {
    if (cached && Date.now() - cached.at < maxAgeMs) return cached.snapshot;
    const snapshot = readSnapshot(pool).catch(() => {
      onError();
      return undefined;
    });
    cached = { at: Date.now(), snapshot };
    return snapshot;
  };
}

async function readSnapshot(pool: pg.Pool): Promise<DatabaseSnapshot> {
  return withTransaction(pool, async (tx) => {
    await tx.query(`SET LOCAL statement_timeout = ${snapshotStatementTimeoutMs}`);
    const payments = await tx.query<{ type: string; status: string; count: number }>(
      'SELECT type, status, count(*)::int AS count FROM payments GROUP BY type, status',
    );
    const callbacks = await tx.query<{ pending: number; oldest_age_seconds: number | null }>(
      `SELECT count(*)::int AS pending, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest_age_seconds
       FROM callbacks WHERE status = 'pending'`,
    );
    const jobs = await tx.query<{ queue: string; state: string; count: number }>(
      `SELECT name AS queue, state::text AS state, count(*)::int AS count FROM pgboss.job
       WHERE state IN ('created', 'retry', 'active') GROUP BY name, state`,
    );
    return {
      payments: payments.rows,
      callbacksPending: callbacks.rows[0]?.pending ?? 0,
      oldestPendingCallbackAgeSeconds: Math.max(0, callbacks.rows[0]?.oldest_age_seconds ?? 0),
      jobs: jobs.rows,
    };
  });
}

export function createMetrics(
  pool: pg.Pool,
  poolMaxConnections: number,
  options: { snapshotMaxAgeMs?: number; intake?: IntakePressure; gatePool?: { pool: pg.Pool; maxConnections: number } } = {},
): PlatformMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });

  const snapshotErrors = new Counter({
    name: 'gatehouse_metrics_database_read_failures_total',
    help: 'Scrapes whose cluster-wide numbers could not be read from PostgreSQL (the gauges kept their last values).',
    registers: [registry],
  });
  const snapshot = cachedSnapshot(pool, options.snapshotMaxAgeMs ?? databaseSnapshotMaxAgeMs, () => snapshotErrors.inc());

  new Gauge({
    name: 'gatehouse_payments',
    help: `Payments by type and status, cluster-wide (read at most every ${databaseSnapshotMaxAgeMs / 1000} s).`,
    labelNames: ['type', 'status'] as const,
    registers: [registry],
    async collect() {
      const read = await snapshot();
      if (!read) return;
      // Every known pair is reported, zero included, so series do not vanish.
      for (const type of paymentTypes) for (const status of paymentStatuses) this.set({ type, status }, 0);
      for (const row of read.payments) this.set({ type: row.type, status: row.status }, row.count);
    },
  });
  new Gauge({
    name: 'gatehouse_callback_queue_depth',
    help: 'Callbacks not yet delivered and not given up (status pending), cluster-wide.',
    registers: [registry],
    async collect() {
      const read = await snapshot();
      if (read) this.set(read.callbacksPending);
    },
  });
  new Gauge({
    name: 'gatehouse_callback_oldest_pending_age_seconds',
    help: 'Age of the oldest pending callback (0 when none is pending).',
    registers: [registry],
    async collect() {
      const read = await snapshot();
      if (read) this.set(read.oldestPendingCallbackAgeSeconds);
    },
  });
  new Gauge({
    name: 'gatehouse_job_queue_jobs',
    help: 'Jobs waiting (created, retry) or running (active) per pg-boss queue, cluster-wide.',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const read = await snapshot();
      if (!read) return;
      for (const queue of Object.values(queueNames)) for (const state of jobStates) this.set({ queue, state }, 0);
      for (const row of read.jobs) this.set({ queue: row.queue, state: row.state }, row.count);
    },
  });
  poolGauges(registry, pool, poolMaxConnections, {
    name: 'gatehouse_db_pool',
    connectionsHelp: "This node's application PostgreSQL pool: open connections by state, and the pool's maximum.",
    waitingHelp: 'Queries of this node waiting for a free pool connection (a pool too small for the load).',
  });
  if (options.gatePool) {
    // The Gate's own connections (GATE_POOL_SIZE): a merchant request waiting here means the Gate itself is the bottleneck.
    poolGauges(registry, options.gatePool.pool, options.gatePool.maxConnections, {
      name: 'gatehouse_db_gate_pool',
      connectionsHelp: "This node's PostgreSQL connections kept for Gate requests: open connections by state, and the maximum.",
      waitingHelp: 'Gate queries of this node waiting for a free connection of the Gate pool.',
    });
  }
  if (options.intake) intakeGauges(registry, options.intake);

  return {
    registry,
    httpRequests: new Counter({
      name: 'gatehouse_http_requests_total',
      help: 'HTTP requests answered, by route template and status code.',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers: [registry],
    }),
    httpRequestDuration: new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'Time from receiving a request to the end of its answer.',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    gateErrors: new Counter({
      name: 'gatehouse_gate_errors_total',
      help: 'Error answers of the Gate and Data API by registry code (docs/error-codes.md).',
      labelNames: ['route', 'code'] as const,
      registers: [registry],
    }),
    jobsProcessed: new Counter({
      name: 'gatehouse_jobs_processed_total',
      help: 'Jobs this node ran, by queue and outcome (completed, failed).',
      labelNames: ['queue', 'outcome'] as const,
      registers: [registry],
    }),
    jobFailures: new Counter({
      name: 'gatehouse_job_failures_total',
      help: 'Jobs whose handler threw on this node (pg-boss retries them with backoff).',
      labelNames: ['queue'] as const,
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'gatehouse_job_duration_seconds',
      help: 'Time one job took on this node.',
      labelNames: ['queue'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    callbackAttempts: new Counter({
      name: 'gatehouse_callback_attempts_total',
      help: 'Callback delivery attempts made by this node: delivered (HTTP 200), rejected (another status), failed (no answer, refused URL).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    callbackAttemptDuration: new Histogram({
      name: 'gatehouse_callback_attempt_duration_seconds',
      help: "Latency of callback attempts as recorded in the delivery log (the merchant's receiver).",
      labelNames: ['result'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

/** `<name>_connections` (total, idle, active, max) and `<name>_waiting_clients` of one pg pool. */
function poolGauges(registry: Registry, pool: pg.Pool, maxConnections: number, names: { name: string; connectionsHelp: string; waitingHelp: string }): void {
  new Gauge({
    name: `${names.name}_connections`,
    help: names.connectionsHelp,
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'active' }, pool.totalCount - pool.idleCount);
      this.set({ state: 'max' }, maxConnections);
    },
  });
  new Gauge({
    name: `${names.name}_waiting_clients`,
    help: names.waitingHelp,
    registers: [registry],
    collect() {
      this.set(pool.waitingCount);
    },
  });
}

/** Merchant requests first, seen from outside: whether, and for how long in all, this node held its background work back. */
function intakeGauges(registry: Registry, intake: IntakePressure): void {
  new Gauge({
    name: 'gatehouse_gate_requests_in_flight',
    help: 'Gate requests this node is answering now.',
    registers: [registry],
    collect() {
      this.set(intake.requestsInFlight);
    },
  });
  new Gauge({
    name: 'gatehouse_background_yielding',
    help: `1 while this node's provider jobs and callback deliveries share one slot because Gate requests crowd it (INTAKE_PRIORITY_REQUESTS), else 0.`,
    registers: [registry],
    collect() {
      this.set(intake.high ? 1 : 0);
    },
  });
  new Counter({
    name: 'gatehouse_background_yield_seconds_total',
    help: "Time this node's background work has run on one slot per loop since the node started.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(intake.yieldedSeconds);
    },
  });
}
