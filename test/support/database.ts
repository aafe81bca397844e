import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded-postgres.ts';
import { migrate } from '../../src/store/migrate.ts';

/**
 * Every test file gets its own fresh, migrated database on a real PostgreSQL:
 * the server named by DATABASE_URL when set (CI runs the suite that way too),
 * otherwise an embedded server in `.test-data/` that this process starts.
 */
export interface TestDatabase {
  connectionString: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

let embedded: Promise<EmbeddedDatabase> | undefined;
const embeddedDir = join(process.cwd(), '.test-data', `process-${process.pid}`);

async function serverUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  // One server per process, in its own folder: concurrent runs never stop each other's server.
  embedded ??= startEmbeddedPostgres(embeddedDir, () => undefined);
  return (await embedded).connectionString;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = await serverUrl();
  const name = `gatehouse_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const connectionString = url.toString();
  await migrate(connectionString);
  const pool = new pg.Pool({ connectionString, max: 20 });
  return {
    connectionString,
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      // pg.Pool's end() resolves once its clients are told to close, not once they have: killing one mid-close
      // (FORCE) made it emit an error nobody listens to any more, an uncaught exception in the test file.
      await waitForNoConnections(client, name, closeWaitMs);
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** How long a dropped test database's connections get to close by themselves before FORCE ends them. */
const closeWaitMs = 5_000;

async function waitForNoConnections(admin: pg.Client, database: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await admin.query<{ open: number }>('SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = $1', [database]);
    if (rows[0].open === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Stops the embedded server, if this process started one. Call once per test file, last. */
export async function stopTestServer(): Promise<void> {
  if (!embedded) return;
  const server = await embedded;
  embedded = undefined;
  await server.stop();
  rmSync(embeddedDir, { recursive: true, force: true });
}
