import pg from 'pg';
import { createPool } from '../../src/store/db.ts';
import { cpuSnapshot, cpuUse, type CpuUse } from './cpu.ts';
import { counterDelta, readCounters } from './database.ts';

/**
 * The ceiling: how many sale flows per second this PostgreSQL could commit if
 * the application cost nothing. A raw `pg` loop, from Node, with the
 * platform's pool size, runs chains of `commitsPerPayment` durable commits
 * shaped like the sale flow's: the accept transaction (insert payment,
 * operation, job), state changes that update a row and insert an outbox row
 * and a job, and the single-statement job fetch/complete updates in between.
 * Each chain's commits run one after another, as a payment's do.
 */
export interface CeilingResult {
  poolSize: number;
  commitsPerPayment: number;
  seconds: number;
  commits: number;
  commitsPerSecond: number;
  paymentsPerSecond: number;
  walFlushesPerCommit: number;
  /** Measured before the loop's connections close (exited backends' CPU time is hard to attribute). */
  cpu: CpuUse;
}

/**
 * Share of the sale flow's commits that are multi-statement transactions
 * (BEGIN ... COMMIT, about 9 of its 22): measured with pg_stat_statements on
 * the sale flow. The rest are single statements (pg-boss fetch and complete,
 * the provider-attempt counter, webhook bookkeeping).
 */
const multiStatementShare = 0.4;

const schema = 'bench_ceiling';

/** A callback body is about this long; outbox rows carry one. */
const outboxBody = JSON.stringify({ padding: 'x'.repeat(900) });
const customer = JSON.stringify({ id: 'bench-customer', ip_address: '192.0.2.10', email: 'buyer@example.com' });

export async function measureCeiling(
  connectionString: string,
  options: { poolSize: number; commitsPerPayment: number; durationMs: number; postmasterPid: number | undefined },
): Promise<CeilingResult> {
  // The platform's own pool kind: parameterised statements prepared once per connection, as the platform sends them.
  const pool = createPool(connectionString, options.poolSize, { bigintAsBigInt: false });
  // An idle connection's error (the server going away) must not crash the bench; a query's error still rejects.
  pool.on('error', () => undefined);
  try {
    await pool.query(`
      DROP SCHEMA IF EXISTS ${schema} CASCADE;
      CREATE SCHEMA ${schema};
      CREATE TABLE ${schema}.payments (
        id bigserial PRIMARY KEY, project_id bigint NOT NULL, payment_id text NOT NULL, status text NOT NULL,
        amount_minor bigint NOT NULL, customer jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(), UNIQUE (project_id, payment_id));
      CREATE TABLE ${schema}.rows (
        id bigserial PRIMARY KEY, payment_ref bigint NOT NULL, kind text NOT NULL, state text NOT NULL DEFAULT 'created',
        body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
      CREATE INDEX ON ${schema}.rows (payment_ref);`);
    const before = await readCounters(pool);
    const cpuBefore = cpuSnapshot(undefined, options.postmasterPid);
    const startedAt = performance.now();
    const deadline = startedAt + options.durationMs;
    let commits = 0;
    let sequence = 0;
    const lane = async () => {
      while (performance.now() < deadline) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const inserted = await client.query<{ id: string }>(
            `INSERT INTO ${schema}.payments (project_id, payment_id, status, amount_minor, customer) VALUES (1, $1, 'processing', 1000, $2) RETURNING id`,
            [`ceiling-${process.pid}-${sequence++}`, customer],
          );
          const paymentRef = inserted.rows[0].id;
          await client.query(`INSERT INTO ${schema}.rows (payment_ref, kind, body) VALUES ($1, 'operation', '{}')`, [paymentRef]);
          await client.query(`INSERT INTO ${schema}.rows (payment_ref, kind, body) VALUES ($1, 'job', '{}')`, [paymentRef]);
          await client.query('COMMIT');
          commits += 1;
          for (let index = 1; index < options.commitsPerPayment; index += 1) {
            // Spread the multi-statement transactions evenly along the chain.
            const multiStatement = Math.floor(index * multiStatementShare) !== Math.floor((index - 1) * multiStatementShare);
            if (multiStatement) {
              await client.query('BEGIN');
              await client.query(`SELECT id FROM ${schema}.payments WHERE id = $1 FOR UPDATE`, [paymentRef]);
              await client.query(`UPDATE ${schema}.payments SET status = $2, updated_at = now() WHERE id = $1`, [paymentRef, `step-${index}`]);
              await client.query(`INSERT INTO ${schema}.rows (payment_ref, kind, body) VALUES ($1, 'outbox', $2)`, [paymentRef, outboxBody]);
              await client.query(`INSERT INTO ${schema}.rows (payment_ref, kind, body) VALUES ($1, 'job', '{}')`, [paymentRef]);
              await client.query('COMMIT');
            } else {
              await client.query(
                `UPDATE ${schema}.rows SET state = $2 WHERE id = (SELECT max(id) FROM ${schema}.rows WHERE payment_ref = $1)`,
                [paymentRef, `step-${index}`],
              );
            }
            commits += 1;
          }
        } finally {
          client.release();
        }
      }
    };
    await Promise.all(Array.from({ length: options.poolSize }, lane));
    const seconds = (performance.now() - startedAt) / 1000;
    const cpu = cpuUse(cpuBefore, cpuSnapshot(undefined, options.postmasterPid));
    const delta = counterDelta(before, await readCounters(pool));
    return {
      poolSize: options.poolSize,
      commitsPerPayment: options.commitsPerPayment,
      seconds,
      commits,
      commitsPerSecond: commits / seconds,
      // Chains cut by the deadline still count their commits: the rate is commits over commits per payment.
      paymentsPerSecond: commits / seconds / options.commitsPerPayment,
      walFlushesPerCommit: delta.walSyncs / Math.max(1, delta.writeTransactions),
      cpu,
    };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}
