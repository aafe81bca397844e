import { createHash } from 'node:crypto';
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

/**
 * Parameterised statements are sent as named prepared statements (the name
 * is a hash of the text), so each connection parses and plans a statement
 * once instead of on every call: PostgreSQL spent more time planning our
 * statements (pg-boss's fetch and insert above all) than executing them
 * (docs/performance.md). A statement without parameters, or one beyond the
 * first `maxPreparedTexts` distinct texts (dynamically built dashboard
 * filters), goes unnamed as before, so the server-side cache stays bounded.
 */
const maxPreparedTexts = 2_000;
const statementNames = new Map<string, string>();

function statementNameOf(text: string): string | undefined {
  const known = statementNames.get(text);
  if (known !== undefined || statementNames.size >= maxPreparedTexts) return known;
  const name = `gh_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
  statementNames.set(text, name);
  return name;
}

/** A `pg.Client` that prepares its parameterised statements (for pools made elsewhere: pg-boss takes it as `Client`). */
export class PreparingClient extends pg.Client {}
// Overridden on the prototype: pg's overloaded `query` signatures cannot be re-declared in a subclass.
const plainQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
(PreparingClient.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) {
  // A text with its values is read as the config object it stands for, so both forms are named one way.
  const asConfig = typeof config === 'string' && Array.isArray(values) ? { text: config, values } : config;
  const name = isUnnamedConfig(asConfig) ? statementNameOf(asConfig.text) : undefined;
  if (name === undefined) return plainQuery.call(this, config, values, callback);
  return plainQuery.call(this, { ...(asConfig as object), name }, asConfig === config ? values : undefined, callback);
};

/**
 * A query given as a plain config object (array row mode) with parameters and
 * no name of its own. Not a submittable (a cursor or a stream): copying one
 * would lose its methods.
 */
function isUnnamedConfig(config: unknown): config is { text: string; values: unknown[]; name?: undefined } {
  if (typeof config !== 'object' || config === null || Object.getPrototypeOf(config) !== Object.prototype) return false;
  const candidate = config as { text?: unknown; values?: unknown; name?: unknown };
  return typeof candidate.text === 'string' && Array.isArray(candidate.values) && candidate.values.length > 0 && candidate.name === undefined;
}

/** The column that separates one table's columns from the next in `queryJoinedRows` (`NULL AS "|"`). */
const tableSeparator = '|';

/**
 * Runs a statement whose select list is `a.*, NULL AS "|", b.*` (and so on)
 * and gives each row back as one object per table: reading several rows that
 * belong together in one round trip, although their tables share column names
 * (`id`, `status`). Array row mode keeps same-named columns apart.
 */
export async function queryJoinedRows(db: Queryable, text: string, values: unknown[]): Promise<Record<string, unknown>[][]> {
  const result = await db.query<unknown[]>({ text, values, rowMode: 'array' });
  return result.rows.map((row) => {
    const tables: Record<string, unknown>[] = [{}];
    result.fields.forEach((field, index) => {
      if (field.name === tableSeparator) tables.push({});
      else tables[tables.length - 1][field.name] = row[index];
    });
    return tables;
  });
}

export interface PoolOptions {
  /** Parse bigint columns as BigInt (money). Off for pools whose callers expect pg's defaults (the sandbox, the bench's ceiling loop). */
  bigintAsBigInt?: boolean;
  /** How long a caller waits for a free connection before its query fails (default 30 s). */
  connectionWaitMs?: number;
}

/**
 * A query that cannot get a connection fails after this long instead of
 * waiting for ever: a request answers 1000 ("may be retried") and a job is
 * retried, where a future hold-and-wait bug (a transaction asking the pool
 * for a second connection) would otherwise hang the node silently.
 */
const defaultConnectionWaitMs = 30_000;

export function createPool(connectionString: string, max: number, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: options.connectionWaitMs ?? defaultConnectionWaitMs,
    Client: PreparingClient,
    types: options.bigintAsBigInt === false ? undefined : (moneyTypes as pg.CustomTypesConfig),
  });
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
