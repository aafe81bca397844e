import { existsSync, readFileSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { urlRefusal } from '../security/urls.ts';
import { signGateRequest } from '../signature/index.ts';
import { createPool } from '../store/db.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../store/embedded-postgres.ts';
import { migrate } from '../store/migrate.ts';
import { createProject, listProjects, type ProjectMode } from '../store/projects.ts';
import { accountsUsage, merchantCommand, projectCredentialsUsage, setPaypalCredentialsCommand, userCommand } from '../accounts/cli.ts';
import { loadConfig } from '../config.ts';
import { CredentialCipher, credentialKeysFor } from '../security/credentials.ts';
import { callbackCommand, commandHelp, fxCommand, openapiCommand, operationsUsage, rotateKeyCommand } from '../observability/cli.ts';

/**
 * `npm run gatehouse -- <command>`: operator commands against the same
 * database the server uses (DATABASE_URL, or the embedded server in DATA_DIR,
 * running or not).
 */
const usage = `Usage: gatehouse <command> [options]

Commands:
  project create --name N --mode test|production [--callback-url URL] [--json]
  project list [--json]
${projectCredentialsUsage}
  sign --secret S            reads a Gate request (JSON) on stdin, prints it signed
  export payments|operations --project N [--from ISO] [--to ISO] [--output FILE]
                             streamed CSV report (progress on stderr)
  clock show --project N [--url URL]
  clock advance --project N (--by 90s|15m|3h|2d | --to ISO-8601) [--url URL]
                             moves a test project's clock through the running server
                             (which performs every timer that falls due, in order)
${accountsUsage}
${operationsUsage}

  <command> [<action>] --help  help for one command

Environment: DATABASE_URL, DATA_DIR (default ./.gatehouse), PUBLIC_URL (default http://127.0.0.1:$PORT),
CREDENTIALS_ENCRYPTION_KEY (and _PREVIOUS; without DATABASE_URL the key file in DATA_DIR)`;

class UsageError extends Error {}

async function withDatabase<T>(work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  let embedded: EmbeddedDatabase | undefined;
  let url = process.env.DATABASE_URL;
  if (!url) {
    const dataDir = resolve(process.env.DATA_DIR ?? './.gatehouse');
    url = runningEmbeddedUrl(dataDir);
    if (!url) {
      embedded = await startEmbeddedPostgres(dataDir, () => undefined);
      url = embedded.connectionString;
    }
  }
  await migrate(url);
  const pool = createPool(url, 2);
  try {
    return await work(pool);
  } finally {
    await pool.end();
    if (embedded) await embedded.stop();
  }
}

/** The nodes' credentials key: the configured one, or the embedded default's key file in DATA_DIR. */
function credentialCipher(): CredentialCipher {
  const config = loadConfig();
  return new CredentialCipher(credentialKeysFor({ ...config, dataDir: resolve(config.dataDir) }));
}

/** The embedded server a running `npm start` owns, if there is one. */
function runningEmbeddedUrl(dataDir: string): string | undefined {
  const pidFile = join(dataDir, 'pg', 'postmaster.pid');
  const portFile = join(dataDir, 'pg-port');
  if (!existsSync(pidFile) || !existsSync(portFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  const port = Number(readFileSync(portFile, 'utf8').trim());
  return `postgres://postgres:gatehouse-embedded@127.0.0.1:${port}/gatehouse`;
}

async function projectCommand(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, mode: { type: 'string' }, 'callback-url': { type: 'string' }, json: { type: 'boolean' } },
  });
  if (action === 'create') {
    if (!values.name) throw new UsageError('--name is required');
    if (values.mode !== 'test' && values.mode !== 'production') throw new UsageError('--mode must be test or production');
    const callbackUrl = values['callback-url'];
    if (callbackUrl !== undefined && !/^https?:\/\/\S+$/.test(callbackUrl)) throw new UsageError('--callback-url must be an http(s) URL');
    const refusal = callbackUrl === undefined ? undefined : urlRefusal(callbackUrl, values.mode === 'test');
    if (refusal) throw new UsageError(`--callback-url ${refusal} (production projects)`);
    const project = await withDatabase((pool) => createProject(pool, { name: values.name!, mode: values.mode as ProjectMode, callbackUrl }));
    if (values.json) process.stdout.write(`${JSON.stringify({ project_id: Number(project.id), secret_key: project.secretKey })}\n`);
    else process.stdout.write(`Created ${project.mode} project ${project.id} "${project.name}"\nsecret_key: ${project.secretKey}\n`);
    return;
  }
  if (action === 'list') {
    const projects = await withDatabase((pool) => listProjects(pool));
    const rows = projects.map((project) => ({ project_id: Number(project.id), name: project.name, mode: project.mode, callback_url: project.callbackUrl }));
    if (values.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else for (const row of rows) process.stdout.write(`${row.project_id}\t${row.mode}\t${row.name}\t${row.callback_url ?? ''}\n`);
    return;
  }
  throw new UsageError(`unknown project command: ${action ?? '(none)'}`);
}

async function signCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { secret: { type: 'string' } } });
  if (!values.secret) throw new UsageError('--secret is required');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new UsageError('stdin is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UsageError('stdin must be a JSON object');
  process.stdout.write(`${JSON.stringify(signGateRequest(body as Record<string, unknown>, values.secret))}\n`);
}

/** "90s", "15m", "3h", "2d" -> seconds. */
function durationSeconds(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value);
  if (!match) throw new UsageError(`--by must look like 90s, 15m, 3h or 2d, got ${value}`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

async function clockCommand(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { project: { type: 'string' }, by: { type: 'string' }, to: { type: 'string' }, url: { type: 'string' } } });
  if (!values.project || !/^\d+$/.test(values.project)) throw new UsageError('--project must be a project id');
  const projectId = Number(values.project);
  const baseUrl = (values.url ?? process.env.PUBLIC_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`).replace(/\/$/, '');
  const project = await withDatabase(async (pool) => (await listProjects(pool)).find((candidate) => Number(candidate.id) === projectId));
  if (!project) throw new UsageError(`no project ${projectId}`);
  let path = '/data/v1/test-clock';
  const body: Record<string, unknown> = { general: { project_id: projectId } };
  if (action === 'advance') {
    if ((values.by === undefined) === (values.to === undefined)) throw new UsageError('give exactly one of --by and --to');
    path += '/advance';
    body.clock = values.by !== undefined ? { advance_seconds: durationSeconds(values.by) } : { frozen_time: values.to };
  } else if (action !== 'show') {
    throw new UsageError(`unknown clock command: ${action ?? '(none)'}`);
  }
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signGateRequest(body, project.secretKey)),
  });
  const answer = await response.text();
  if (!response.ok) throw new Error(`server answered ${response.status}: ${answer}`);
  process.stdout.write(`${answer}\n`);
}

/**
 * `export payments|operations --project N [--from ISO] [--to ISO] [--output FILE]`:
 * a streamed CSV (the Dashboard's report format), with rows-written progress
 * on stderr every half second; never holds the export in memory.
 */
async function exportCommand(args: string[]): Promise<void> {
  const [kind, ...rest] = args;
  if (kind !== 'payments' && kind !== 'operations') throw new UsageError('export payments|operations --project N [--from ISO] [--to ISO] [--output FILE]');
  const { values } = parseArgs({ args: rest, options: { project: { type: 'string', multiple: true }, from: { type: 'string' }, to: { type: 'string' }, output: { type: 'string' } } });
  const projectIds = (values.project ?? []).map((id) => {
    if (!/^\d+$/.test(id)) throw new UsageError('--project must be a project id');
    return BigInt(id);
  });
  if (projectIds.length === 0) throw new UsageError('--project is required');
  const date = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    const parsed = new Date(value);
    if (Number.isNaN(parsed.getTime())) throw new UsageError(`--${name} is not a date`);
    return parsed;
  };
  const filters = { projectIds, from: date(values.from, 'from'), to: date(values.to, 'to') };
  await withDatabase(async (pool) => {
    const { csvExport } = await import('../reports/csv.ts');
    let failure: Error | undefined;
    const exported = csvExport(pool, kind === 'payments' ? { kind, filters } : { kind, filters }, (error) => (failure = error));
    const output = values.output ? createWriteStream(values.output) : process.stdout;
    const progress = setInterval(() => process.stderr.write(`\rexport: ${exported.rowCount()} rows`), 500);
    try {
      await pipeline(exported.stream, output);
    } finally {
      clearInterval(progress);
      process.stderr.write(`\rexport: ${exported.rowCount()} rows written\n`);
    }
    if (failure) throw failure;
  });
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const helpAt = argv.findIndex((argument) => argument === '--help' || argument === '-h');
  if (helpAt > 0) {
    process.stdout.write(`${commandHelp(usage, argv.slice(0, helpAt)) ?? usage}\n`);
    return;
  }
  if (command === 'project' && rest[0] === 'set-paypal-credentials') {
    return setPaypalCredentialsCommand(rest.slice(1), withDatabase, (message) => new UsageError(message), credentialCipher());
  }
  if (command === 'project' && rest[0] === 'rotate-key') return rotateKeyCommand(rest.slice(1), withDatabase, (message) => new UsageError(message));
  if (command === 'fx') return fxCommand(rest, withDatabase, (message) => new UsageError(message));
  if (command === 'callback') return callbackCommand(rest, withDatabase, (message) => new UsageError(message));
  if (command === 'openapi') return openapiCommand();
  if (command === 'project') return projectCommand(rest);
  if (command === 'sign') return signCommand(rest);
  if (command === 'clock') return clockCommand(rest);
  if (command === 'export') return exportCommand(rest);
  if (command === 'user') return userCommand(rest, withDatabase, (message) => new UsageError(message));
  if (command === 'merchant') return merchantCommand(rest, withDatabase, (message) => new UsageError(message));
  throw new UsageError(`unknown command: ${command}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`gatehouse: ${(error as Error).message}\n\n${usage}\n`);
    process.exit(2);
  }
  process.stderr.write(`gatehouse: ${(error as Error).message}\n`);
  process.exit(1);
});
