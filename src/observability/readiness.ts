import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { QueueState } from './jobs.ts';

/**
 * `/ready`: may a load balancer send this node traffic? Yes when PostgreSQL
 * answers, every migration file of this release is applied, and the job
 * queue runs with workers. (`/health` only says the process is alive.)
 */
export type CheckResult = 'ok' | string;

export interface Readiness {
  ready: boolean;
  checks: { database: CheckResult; migrations: CheckResult; job_queue: CheckResult };
}

/** Bound on each database check: a probe must answer even when PostgreSQL does not. */
const checkTimeoutMs = 2_000;

const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Migration names as node-pg-migrate records them: file names without the extension. */
function migrationNames(): string[] {
  return readdirSync(migrationsDir)
    .filter((file) => /\.(sql|js|cjs|mjs|ts)$/.test(file))
    .map((file) => file.replace(/\.[^.]+$/, ''))
    .sort();
}

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${checkTimeoutMs} ms`)), checkTimeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function readinessProbe(pool: pg.Pool, queue: QueueState): () => Promise<Readiness> {
  const expected = migrationNames();
  // Applied migrations are never undone (forward-only), so one success is enough.
  let migrationsApplied = false;

  async function database(): Promise<CheckResult> {
    try {
      await withTimeout(pool.query('SELECT 1'), 'SELECT 1');
      return 'ok';
    } catch (error) {
      return `unreachable: ${(error as Error).message}`;
    }
  }

  async function migrations(): Promise<CheckResult> {
    if (migrationsApplied) return 'ok';
    try {
      const { rows } = await withTimeout(pool.query<{ name: string }>('SELECT name FROM schema_migrations'), 'reading schema_migrations');
      const applied = new Set(rows.map((row) => row.name));
      const pending = expected.filter((name) => !applied.has(name));
      if (pending.length > 0) return `pending: ${pending.join(', ')}`;
      migrationsApplied = true;
      return 'ok';
    } catch (error) {
      return `unknown: ${(error as Error).message}`;
    }
  }

  function jobQueue(): CheckResult {
    if (!queue.started) return 'stopped';
    if (queue.workers === 0) return 'no workers yet';
    return 'ok';
  }

  return async () => {
    const [databaseCheck, migrationsCheck] = await Promise.all([database(), migrations()]);
    const checks = { database: databaseCheck, migrations: migrationsCheck, job_queue: jobQueue() };
    return { ready: Object.values(checks).every((check) => check === 'ok'), checks };
  };
}
