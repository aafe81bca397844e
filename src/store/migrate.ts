import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * Forward-only schema migrations, run on every start. node-pg-migrate holds an
 * advisory lock, so two nodes starting together apply each file once.
 */
export async function migrate(connectionString: string, log: (message: string) => void = () => undefined): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await runner({
      dbClient: client,
      dir: migrationsDir,
      direction: 'up',
      migrationsTable: 'schema_migrations',
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      log: (message: string) => log(message),
      verbose: false,
    });
  } finally {
    await client.end();
  }
}
