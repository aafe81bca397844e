import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/store/embedded-postgres.ts';

/**
 * `npm test`: runs every test file with node's test runner against a real
 * PostgreSQL: DATABASE_URL when set, otherwise one embedded server for the
 * whole run (each test file makes its own database on it).
 * Extra arguments are test files to run instead of all of them.
 */
const requested = process.argv.slice(2);
const files = requested.length > 0 ? requested : readdirSync('test').filter((name) => name.endsWith('.test.ts')).sort().map((name) => join('test', name));

let embedded: EmbeddedDatabase | undefined;
let embeddedDir: string | undefined;
const env = { ...process.env };
if (!env.DATABASE_URL) {
  // A folder per run, so two runs on one machine never share (or stop) a server.
  embeddedDir = join(process.cwd(), '.test-data', `run-${process.pid}`);
  embedded = await startEmbeddedPostgres(embeddedDir, () => undefined);
  env.DATABASE_URL = embedded.connectionString;
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit', env });
const exitCode: number = await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
if (embedded) await embedded.stop();
if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true });
process.exit(exitCode);
