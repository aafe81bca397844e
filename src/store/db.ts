import pg from 'pg';

// bigint columns come back as strings by default; money needs exact integers.
// Per pool, not global: other modules' pools keep pg's defaults.
const moneyTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (value: string) => BigInt(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export type Queryable = pg.Pool | pg.PoolClient;

export function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, idleTimeoutMillis: 30_000, types: moneyTypes as pg.CustomTypesConfig });
  // An idle client's error (server restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Hooks to run once the transaction open on a client has committed. */
const commitHooks = new WeakMap<pg.PoolClient, (() => void)[]>();

/**
 * Runs `hook` once the transaction open on `db` (by `withTransaction`) has
 * committed, never if it rolls back; at once when `db` is not in one. A job
 * sent inside a transaction wakes its workers this way: woken before the
 * commit, a worker would find nothing and sleep a whole polling interval.
 */
export function afterCommit(db: Queryable, hook: () => void): void {
  const hooks = commitHooks.get(db as pg.PoolClient);
  if (hooks) hooks.push(hook);
  else hook();
}

/**
 * Runs `work` in one transaction; rolls back on any error. Given a client
 * that is already in one (opened here), `work` joins it inside a savepoint:
 * its writes commit with the outer transaction or not at all, and its own
 * failure undoes only its part. That is how an audited Dashboard action runs
 * the same code Gate runs (`acceptNewPayment`...) in the transaction that
 * also writes the audit entry.
 */
export async function withTransaction<T>(db: Queryable, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  if (!(db instanceof pg.Pool)) return withSavepoint(db, work);
  const client = await db.connect();
  const hooks: (() => void)[] = [];
  commitHooks.set(client, hooks);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    commitHooks.delete(client);
    for (const hook of hooks) hook();
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    commitHooks.delete(client);
    client.release();
  }
}

async function withSavepoint<T>(client: pg.PoolClient, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const hooks = commitHooks.get(client);
  // A bare client would autocommit each statement: the caller's promise of atomicity would be silently broken.
  if (!hooks) throw new Error('withTransaction: the client is not in a transaction opened by withTransaction');
  const hooksBefore = hooks.length;
  await client.query('SAVEPOINT nested_work');
  try {
    const result = await work(client);
    await client.query('RELEASE SAVEPOINT nested_work');
    return result;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT nested_work; RELEASE SAVEPOINT nested_work').catch(() => undefined);
    // Work undone here wakes no workers after the outer commit.
    hooks.length = hooksBefore;
    throw error;
  }
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const candidate = error as { code?: string; constraint?: string };
  return candidate?.code === '23505' && (constraint === undefined || candidate.constraint === constraint);
}

/** Reads a platform setting, creating it with `generate()` on first use (race-safe). */
export async function settingOrCreate(pool: pg.Pool, key: string, generate: () => string): Promise<string> {
  await pool.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, generate()]);
  const { rows } = await pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
  return rows[0].value;
}
