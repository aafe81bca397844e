import { parseArgs } from 'node:util';
import type pg from 'pg';
import { withTransaction } from '../store/db.ts';
import { rotateSecretKey } from '../store/projects.ts';
import { buildOpenApiDocument, openApiJson } from './openapi.ts';

/**
 * Operator commands of `npm run gatehouse -- ...` for running a platform:
 * key rotation, FX rates, callback replay, the OpenAPI document, and
 * per-command `--help`. `src/cli/main.ts` routes to them.
 */
export const operationsUsage = `  project rotate-key --project N [--overlap-seconds S] [--json]
                             new secret key; the previous one keeps verifying for S seconds
                             (default 86400; 0 ends it at once)
  fx list [--json]           FX rates: units of each currency per 1 USD
  fx set --currency EUR --rate 0.86
                             sets one rate (running nodes re-read rates within 30 s)
  callback replay --callback-id N
                             sets a callback back to pending and queues one delivery now;
                             a running node delivers it (normal retries follow while the
                             callback is within its schedule)
  openapi                    prints the OpenAPI 3.1 document of Gate, the Data API and the Dashboard API (what openapi.json holds)`;

type WithDatabase = <T>(work: (pool: pg.Pool) => Promise<T>) => Promise<T>;
type UsageErrorFactory = (message: string) => Error;

const defaultOverlapSeconds = 86_400;
/** A longer overlap would keep a leaked key alive for too long. */
const overlapSecondsMax = 30 * 86_400;

/**
 * The lines of `usage` for the command `words` (`['project']` gives every
 * project command, `['project', 'create']` one), or undefined when none match.
 * A command's block is its line (two-space indent) and the deeper-indented
 * lines under it.
 */
export function commandHelp(usage: string, words: readonly string[]): string | undefined {
  const blocks: string[][] = [];
  for (const line of usage.split('\n')) {
    if (/^ {2}\S/.test(line)) blocks.push([line]);
    else if (/^ {3,}\S/.test(line) && blocks.length > 0) blocks[blocks.length - 1].push(line);
    else blocks.push([]);
  }
  const wanted = words.join(' ');
  const matching = blocks.filter((block) => block.length > 0 && `${block[0].trim()} `.startsWith(`${wanted} `));
  if (matching.length === 0) return undefined;
  return `Usage: gatehouse ${wanted} [options]\n\n${matching.map((block) => block.join('\n')).join('\n')}`;
}

export async function rotateKeyCommand(args: string[], withDatabase: WithDatabase, usageError: UsageErrorFactory): Promise<void> {
  const { values } = parseArgs({ args, options: { project: { type: 'string' }, 'overlap-seconds': { type: 'string' }, json: { type: 'boolean' } } });
  if (!values.project || !/^\d{1,18}$/.test(values.project)) throw usageError('--project must be a project id');
  const overlapText = values['overlap-seconds'] ?? String(defaultOverlapSeconds);
  if (!/^\d{1,9}$/.test(overlapText) || Number(overlapText) > overlapSecondsMax) throw usageError(`--overlap-seconds must be 0..${overlapSecondsMax}`);
  const overlapSeconds = Number(overlapText);
  const project = await withDatabase((pool) => rotateSecretKey(pool, BigInt(values.project!), overlapSeconds));
  if (!project) throw usageError(`no project ${values.project}`);
  const previousValidUntil = new Date(Date.now() + overlapSeconds * 1000).toISOString();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ project_id: Number(project.id), secret_key: project.secretKey, previous_key_valid_until: previousValidUntil })}\n`);
  } else {
    process.stdout.write(`Rotated the secret key of project ${project.id}\nsecret_key: ${project.secretKey}\nprevious key verifies until ${previousValidUntil}\n`);
  }
}

export async function fxCommand(args: string[], withDatabase: WithDatabase, usageError: UsageErrorFactory): Promise<void> {
  const [action, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { currency: { type: 'string' }, rate: { type: 'string' }, json: { type: 'boolean' } } });
  if (action === 'list') {
    const rows = await withDatabase(async (pool) => {
      const { rows } = await pool.query<{ currency: string; rate: string; updated_at: Date }>(
        `SELECT trim(quote) AS currency, rate::text AS rate, updated_at FROM fx_rates WHERE base = 'USD' ORDER BY quote`,
      );
      return rows.map((row) => ({ currency: row.currency, rate: trimDecimal(row.rate), updated_at: row.updated_at.toISOString() }));
    });
    if (values.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else for (const row of rows) process.stdout.write(`${row.currency}\t${row.rate}\t${row.updated_at}\n`);
    return;
  }
  if (action === 'set') {
    const currency = values.currency ?? '';
    const rate = values.rate ?? '';
    if (!/^[A-Z]{3}$/.test(currency)) throw usageError('--currency must be an ISO 4217 code such as EUR');
    if (currency === 'USD') throw usageError('USD is the base of the table: its rate is 1');
    // numeric(24, 12): at most 12 digits before and 12 after the point, and more than zero.
    if (!/^\d{1,12}(\.\d{1,12})?$/.test(rate) || /^0*(\.0*)?$/.test(rate)) throw usageError('--rate must be a positive decimal such as 0.86 (units per 1 USD)');
    await withDatabase((pool) =>
      pool.query(
        `INSERT INTO fx_rates (base, quote, rate, updated_at) VALUES ('USD', $1, $2, now())
         ON CONFLICT (base, quote) DO UPDATE SET rate = excluded.rate, updated_at = now()`,
        [currency, rate],
      ),
    );
    process.stdout.write(`${currency} = ${trimDecimal(rate)} per 1 USD\n`);
    return;
  }
  throw usageError(`unknown fx command: ${action ?? '(none)'}`);
}

function trimDecimal(value: string): string {
  return value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value;
}

/**
 * `callback replay`: the callback goes back to `pending`, due now; any
 * running node claims it at its next poll (src/callbacks/dispatcher.ts). A
 * disabled callback (`callback.force_disable`) is never sent.
 */
export async function callbackCommand(args: string[], withDatabase: WithDatabase, usageError: UsageErrorFactory): Promise<void> {
  const [action, ...rest] = args;
  if (action !== 'replay') throw usageError(`unknown callback command: ${action ?? '(none)'}`);
  const { values } = parseArgs({ args: rest, options: { 'callback-id': { type: 'string' } } });
  const callbackId = values['callback-id'];
  if (!callbackId || !/^\d{1,18}$/.test(callbackId)) throw usageError('--callback-id must be a callback id');
  const result = await withDatabase((pool) =>
    withTransaction(pool, async (tx) => {
      const { rows } = await tx.query<{ status: string }>('SELECT status FROM callbacks WHERE id = $1 FOR UPDATE', [callbackId]);
      const previous = rows[0]?.status;
      if (previous === undefined) throw usageError(`no callback ${callbackId}`);
      if (previous === 'disabled') throw usageError(`callback ${callbackId} is disabled (callback.force_disable): it is never sent`);
      await tx.query(`UPDATE callbacks SET status = 'pending', next_attempt_at = now(), delivered_at = NULL WHERE id = $1`, [callbackId]);
      return { previous };
    }),
  );
  process.stdout.write(`${JSON.stringify({ callback_id: Number(callbackId), previous_status: result.previous, status: 'pending' })}\n`);
}

export async function openapiCommand(): Promise<void> {
  process.stdout.write(openApiJson(await buildOpenApiDocument()));
}
