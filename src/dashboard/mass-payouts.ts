import { pipeline, Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { Type } from '@sinclair/typebox';
import { stringify } from 'csv-stringify';
import type pg from 'pg';
import { GateError } from '../domain/errors.ts';
import { checkMethodEnabled } from '../gate/method-rules.ts';
import { acceptNewPayment } from '../gate/operations.ts';
import { checkOnboardingGrants } from '../gate/permission-rules.ts';
import type { PlatformContext } from '../processing/context.ts';
import { cursorRows } from '../reports/csv.ts';
import { decimalAmount } from '../reports/queries.ts';
import { withTransaction, type Queryable } from '../store/db.ts';
import { findPayment } from '../store/payments.ts';
import { findProject, type Project } from '../store/projects.ts';
import { audited, idParameter, projectOf, type RouteDefinition, type SignedCall } from './http.ts';
import { amountMinorOf, payoutBodyFor } from './payouts.ts';

/**
 * Mass payouts from a CSV upload, in two steps like the real Dashboard:
 *
 * 1. Upload (`POST .../mass-payouts`, `text/csv`): every row is parsed and
 *    checked with Gate's payout schema and rules, against the other rows
 *    (duplicate payment_id) and against the project (payment_id taken).
 *    Nothing is sent. The answer lists each rejected row and why.
 * 2. Start (`POST .../mass-payouts/:id/start`): a job sends the valid rows
 *    through `acceptNewPayment`, a few at a time, each node taking rows with
 *    FOR UPDATE SKIP LOCKED. Progress is polled; per-row results download as
 *    CSV. A row is sent once: its payout is written in the transaction that
 *    marks the row (inside a savepoint, so one refused row undoes only its
 *    own part). A payment_id that already holds the same payout (sent before
 *    rows and payouts committed together) marks the row accepted.
 *
 * CSV columns (header row required, any order): payment_id, amount (in the
 * currency's major units, e.g. 10.50; or amount_minor in minor units),
 * currency, account_number, customer_id; optional description,
 * customer_email, customer_country.
 */
export const massPayoutRowsMax = 10_000;
export const massPayoutBytesMax = 5 * 1024 * 1024;
/** Rejected rows an answer lists (the first ones by row number); the results CSV has them all. */
export const rejectedRowsShownMax = 1_000;
/** Rows a worker takes (and sends, one after another) per transaction. */
const rowsPerTake = 20;

const requiredColumns = ['payment_id', 'currency', 'account_number', 'customer_id'] as const;
const optionalColumns = ['amount', 'amount_minor', 'description', 'customer_email', 'customer_country'] as const;

interface ParsedRow {
  rowNumber: number;
  raw: Record<string, string>;
  status: 'pending' | 'rejected';
  error: string | null;
  paymentId: string | null;
  amountMinor: bigint | null;
  currency: string | null;
  accountNumber: string | null;
  customerId: string | null;
  description: string | null;
}

/**
 * Parses and validates a whole upload; throws 7009 only for a file that is
 * not a usable CSV at all. `db`: the upload's transaction (reading through
 * the pool from inside it would need a second connection).
 */
export async function validateUpload(db: Queryable, project: Project, csv: string, customerIpAddress: string): Promise<ParsedRow[]> {
  let records: string[][];
  try {
    records = parse(csv, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, max_record_size: 64 * 1024 });
  } catch (error) {
    throw new GateError('csvInvalid', (error as Error).message.slice(0, 200));
  }
  if (records.length < 2) throw new GateError('csvInvalid', 'a header row and at least one payout row are required');
  if (records.length - 1 > massPayoutRowsMax) throw new GateError('csvInvalid', `at most ${massPayoutRowsMax} rows`);
  const header = records[0].map((name) => name.toLowerCase());
  const known = new Set<string>([...requiredColumns, ...optionalColumns]);
  const missing = requiredColumns.filter((column) => !header.includes(column));
  if (missing.length) throw new GateError('csvInvalid', `missing columns: ${missing.join(', ')}`);
  if (header.includes('amount') === header.includes('amount_minor')) throw new GateError('csvInvalid', 'give exactly one of the columns amount and amount_minor');
  const unknown = header.filter((column) => !known.has(column));
  if (unknown.length) throw new GateError('csvInvalid', `unknown columns: ${unknown.join(', ')}`);
  if (new Set(header).size !== header.length) throw new GateError('csvInvalid', 'a column appears twice');

  const rows: ParsedRow[] = records.slice(1).map((record, index) => {
    const raw = Object.fromEntries(header.map((column, position) => [column, record[position] ?? '']));
    const row: ParsedRow = {
      rowNumber: index + 1,
      raw,
      status: 'pending',
      error: null,
      paymentId: raw.payment_id || null,
      amountMinor: null,
      currency: raw.currency || null,
      accountNumber: raw.account_number || null,
      customerId: raw.customer_id || null,
      description: raw.description || null,
    };
    try {
      if (record.length !== header.length) throw new GateError('csvInvalid', `expected ${header.length} fields, found ${record.length}`);
      const amountMinor =
        raw.amount_minor !== undefined
          ? /^[1-9][0-9]{0,17}$/.test(raw.amount_minor)
            ? BigInt(raw.amount_minor)
            : (() => {
                throw new GateError('invalidFieldFormat', 'amount_minor must be a positive whole number');
              })()
          : amountMinorOf(raw.amount ?? '', raw.currency);
      payoutBodyFor(project, {
        paymentId: raw.payment_id,
        amountMinor,
        currency: raw.currency,
        accountNumber: raw.account_number,
        customerId: raw.customer_id,
        customerIpAddress,
        description: raw.description || undefined,
        customerEmail: raw.customer_email || undefined,
        customerCountry: raw.customer_country || undefined,
      });
      row.amountMinor = amountMinor;
    } catch (error) {
      if (!(error instanceof GateError)) throw error;
      row.status = 'rejected';
      row.error = `${error.entry.code}: ${error.message}`;
    }
    return row;
  });

  // payment_id must be unique in the file and unused in the project.
  const seen = new Map<string, number>();
  for (const row of rows) {
    if (row.status !== 'pending' || row.paymentId === null) continue;
    const first = seen.get(row.paymentId);
    if (first !== undefined) {
      row.status = 'rejected';
      row.error = `3041: payment_id repeats row ${first}`;
    } else {
      seen.set(row.paymentId, row.rowNumber);
    }
  }
  const { rows: taken } = await db.query<{ payment_id: string }>(
    'SELECT payment_id FROM payments WHERE project_id = $1 AND payment_id = ANY($2::text[])',
    [String(project.id), [...seen.keys()]],
  );
  const takenIds = new Set(taken.map((row) => row.payment_id));
  for (const row of rows) {
    if (row.status === 'pending' && row.paymentId !== null && takenIds.has(row.paymentId)) {
      row.status = 'rejected';
      row.error = '3041: Payment ID already exists';
    }
  }
  return rows;
}

async function insertBatch(tx: pg.PoolClient, project: Project, userId: bigint, fileName: string, ip: string, rows: ParsedRow[]): Promise<bigint> {
  const rejected = rows.filter((row) => row.status === 'rejected').length;
  const { rows: inserted } = await tx.query<{ id: string }>(
    `INSERT INTO mass_payout_batches (project_id, created_by, file_name, status, rows_total, rows_rejected, customer_ip_address)
     VALUES ($1, $2, $3, 'validated', $4, $5, $6) RETURNING id::text AS id`,
    [String(project.id), String(userId), fileName, rows.length, rejected, ip],
  );
  const batchId = inserted[0].id;
  await tx.query(
    `INSERT INTO mass_payout_rows (batch_id, row_number, status, payment_id, amount_minor, currency, account_number, customer_id, description, raw, error)
     SELECT $1::bigint, * FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::text[])`,
    [
      batchId,
      rows.map((row) => row.rowNumber),
      rows.map((row) => row.status),
      rows.map((row) => row.paymentId),
      rows.map((row) => (row.amountMinor === null ? null : String(row.amountMinor))),
      rows.map((row) => (row.status === 'pending' ? row.currency : null)),
      rows.map((row) => row.accountNumber),
      rows.map((row) => row.customerId),
      rows.map((row) => row.description),
      rows.map((row) => JSON.stringify(row.raw)),
      rows.map((row) => row.error),
    ],
  );
  return BigInt(batchId);
}

async function batchOf(db: Queryable, project: Project, batchIdText: string | undefined) {
  const batchId = idParameter(batchIdText);
  const { rows } = await db.query(
    `SELECT id::int AS id, project_id::int AS project_id, file_name, status, rows_total, rows_rejected, created_at, started_at, finished_at
       FROM mass_payout_batches WHERE id = $1 AND project_id = $2`,
    [String(batchId), String(project.id)],
  );
  if (!rows[0]) throw new GateError('dashboardNotFound', `batch ${batchIdText}`);
  return rows[0] as { id: number; project_id: number; file_name: string; status: string; rows_total: number; rows_rejected: number; created_at: Date; started_at: Date | null; finished_at: Date | null };
}

/** A stored rejection ("3041: Payment ID already exists", as validateUpload writes it) as code and message. */
export function rejectionOf(error: string | null): { code: string; message: string } {
  const match = /^(\d+): (.*)$/s.exec(error ?? '');
  return match ? { code: match[1], message: match[2] } : { code: '', message: error ?? '' };
}

/** The batch's rejected rows with their reasons, so an answer shows them after a reload as at upload. */
async function rejectedRowsOf(db: Queryable, batchId: number) {
  const { rows } = await db.query<{ row_number: number; payment_id: string | null; error: string | null }>(
    `SELECT row_number, payment_id, error FROM mass_payout_rows WHERE batch_id = $1 AND status = 'rejected' ORDER BY row_number LIMIT ${rejectedRowsShownMax}`,
    [batchId],
  );
  return rows.map((row) => ({ row_number: row.row_number, payment_id: row.payment_id, ...rejectionOf(row.error), error: row.error }));
}

async function progressOf(db: Queryable, project: Project, batchIdText: string | undefined) {
  const batch = await batchOf(db, project, batchIdText);
  const counts = await db.query<{ status: string; count: number }>(
    'SELECT status, count(*)::int AS count FROM mass_payout_rows WHERE batch_id = $1 GROUP BY status',
    [batch.id],
  );
  const payments = await db.query<{ status: string; count: number }>(
    `SELECT p.status, count(*)::int AS count FROM mass_payout_rows r JOIN payments p ON p.project_id = $2 AND p.payment_id = r.payment_id
      WHERE r.batch_id = $1 AND r.status = 'accepted' GROUP BY p.status`,
    [batch.id, String(project.id)],
  );
  const byStatus = Object.fromEntries(counts.rows.map((row) => [row.status, row.count]));
  const sent = (byStatus.accepted ?? 0) + (byStatus.failed ?? 0);
  const toSend = batch.rows_total - batch.rows_rejected;
  return {
    batch: {
      ...batch,
      created_at: batch.created_at.toISOString(),
      started_at: batch.started_at?.toISOString() ?? null,
      finished_at: batch.finished_at?.toISOString() ?? null,
    },
    rows: { total: batch.rows_total, rejected: byStatus.rejected ?? 0, pending: byStatus.pending ?? 0, accepted: byStatus.accepted ?? 0, failed: byStatus.failed ?? 0 },
    progress_percent: toSend === 0 ? 100 : Math.floor((sent * 100) / toSend),
    payment_statuses: Object.fromEntries(payments.rows.map((row) => [row.status, row.count])),
    rejected_rows: batch.rows_rejected === 0 ? [] : await rejectedRowsOf(db, batch.id),
  };
}

const tags = ['Dashboard: payouts'] as const;

/**
 * Payouts are on for the project: PayPal enabled and, for a production
 * project, the `payouts` right granted at onboarding. Checked at upload and
 * at start, so a file is refused at once rather than row by row.
 */
async function checkPayoutsEnabled(context: PlatformContext, db: Queryable, project: Project): Promise<void> {
  checkMethodEnabled(context, project, 'paypal');
  await checkOnboardingGrants(db, project, 'paypal', 'payout');
}

export function massPayoutRoutes(context: PlatformContext, kick: () => void): RouteDefinition[] {
  return [
    {
      method: 'POST',
      url: '/projects/:projectId/mass-payouts',
      access: ['merchant_admin'],
      summary: 'Upload a mass payout CSV',
      description:
        'Validates every row and sends nothing: answers the batch, its row counts and the rejected rows. A header row, then one payout per row (columns in docs/dashboard-api.md); at most 5 MiB and 10,000 rows.',
      tags,
      documentedQuery: Type.Object({ file_name: Type.Optional(Type.String({ maxLength: 255, description: 'The file name to show with the batch.' })) }),
      errors: ['csvInvalid', 'methodNotEnabled'],
      bodyLimit: massPayoutBytesMax,
      bodyTypes: ['text/csv', 'application/csv'],
      async handle(call: SignedCall<unknown>) {
        const project = await projectOf(context, call, call.params.projectId);
        if (typeof call.body !== 'string') throw new GateError('unsupportedMediaType', 'send the file as text/csv');
        const csv = call.body;
        const fileName = String(call.query.file_name ?? '').slice(0, 255);
        return audited(context, call, { action: 'mass_payout.upload', targetType: 'project', targetId: String(project.id), details: { file_name: fileName } }, async (tx) => {
          await checkPayoutsEnabled(context, tx, project);
          const rows = await validateUpload(tx, project, csv, call.request.ip);
          const batchId = await insertBatch(tx, project, call.user.id, fileName, call.request.ip, rows);
          return progressOf(tx, project, String(batchId));
        });
      },
    },
    {
      method: 'GET',
      url: '/projects/:projectId/mass-payouts',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: "A project's mass payout batches",
      tags,
      async handle(call: SignedCall) {
        const project = await projectOf(context, call, call.params.projectId);
        const { rows } = await context.pool.query(
          `SELECT id::int AS id, file_name, status, rows_total, rows_rejected, created_at, started_at, finished_at
             FROM mass_payout_batches WHERE project_id = $1 ORDER BY id DESC LIMIT 100`,
          [String(project.id)],
        );
        return { batches: rows };
      },
    },
    {
      method: 'GET',
      url: '/projects/:projectId/mass-payouts/:batchId',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: "A mass payout batch's progress",
      tags,
      async handle(call: SignedCall) {
        const project = await projectOf(context, call, call.params.projectId);
        return progressOf(context.pool, project, call.params.batchId);
      },
    },
    {
      method: 'POST',
      url: '/projects/:projectId/mass-payouts/:batchId/start',
      access: ['merchant_admin'],
      summary: 'Start sending a mass payout batch',
      description: 'Sends the valid rows from a job, a few at a time on every node. Only a `validated` batch starts (`409` / `7010` otherwise).',
      tags,
      errors: ['batchStateForbidsAction', 'methodNotEnabled'],
      async handle(call: SignedCall) {
        const project = await projectOf(context, call, call.params.projectId);
        const batch = await batchOf(context.pool, project, call.params.batchId);
        await audited(context, call, { action: 'mass_payout.start', targetType: 'mass_payout_batch', targetId: String(batch.id) }, async (tx) => {
          await checkPayoutsEnabled(context, tx, project);
          const { rowCount } = await tx.query(
            `UPDATE mass_payout_batches SET status = CASE WHEN rows_total = rows_rejected THEN 'done' ELSE 'running' END, started_at = now(),
                    finished_at = CASE WHEN rows_total = rows_rejected THEN now() END
              WHERE id = $1 AND status = 'validated'`,
            [batch.id],
          );
          if (!rowCount) throw new GateError('batchStateForbidsAction', `batch is ${batch.status}`);
        });
        kick();
        return progressOf(context.pool, project, call.params.batchId);
      },
    },
    {
      method: 'POST',
      url: '/projects/:projectId/mass-payouts/:batchId/cancel',
      access: ['merchant_admin'],
      summary: 'Stop sending a mass payout batch',
      description: 'Rows already sent stay sent.',
      tags,
      errors: ['batchStateForbidsAction'],
      async handle(call: SignedCall) {
        const project = await projectOf(context, call, call.params.projectId);
        const batch = await batchOf(context.pool, project, call.params.batchId);
        await audited(context, call, { action: 'mass_payout.cancel', targetType: 'mass_payout_batch', targetId: String(batch.id) }, async (tx) => {
          const { rowCount } = await tx.query(
            `UPDATE mass_payout_batches SET status = 'cancelled', finished_at = now() WHERE id = $1 AND status IN ('validated', 'running')`,
            [batch.id],
          );
          if (!rowCount) throw new GateError('batchStateForbidsAction', `batch is ${batch.status}`);
        });
        return progressOf(context.pool, project, call.params.batchId);
      },
    },
    {
      method: 'GET',
      url: '/projects/:projectId/mass-payouts/:batchId/results.csv',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: "A mass payout batch's results as CSV",
      description: 'One line per row: `row_number, payment_id, amount, currency, account_number, customer_id, result, error, request_id, payment_status`.',
      tags,
      answerMediaType: 'text/csv',
      async handle(call: SignedCall) {
        const project = await projectOf(context, call, call.params.projectId);
        const batch = await batchOf(context.pool, project, call.params.batchId);
        const source = Readable.from(
          (async function* () {
            for await (const row of cursorRows<Record<string, string | null>>(context.pool, {
              text: `SELECT r.row_number::text AS row_number, r.payment_id, r.raw ->> 'amount' AS amount, r.amount_minor::text AS amount_minor,
                            COALESCE(r.currency, r.raw ->> 'currency') AS currency, r.account_number, r.customer_id, r.status AS result, r.error,
                            r.request_id, p.status AS payment_status
                       FROM mass_payout_rows r LEFT JOIN payments p ON r.status = 'accepted' AND p.project_id = $2 AND p.payment_id = r.payment_id
                      WHERE r.batch_id = $1 ORDER BY r.row_number`,
              values: [batch.id, String(project.id)],
            })) {
              const currency = (row.currency ?? '').trim();
              const amount = row.amount_minor ? decimalAmount(row.amount_minor, currency) : (row.amount ?? '');
              yield [row.row_number, row.payment_id ?? '', amount, currency, row.account_number ?? '', row.customer_id ?? '', row.result, row.error ?? '', row.request_id ?? '', row.payment_status ?? ''];
            }
          })(),
        );
        const columns = ['row_number', 'payment_id', 'amount', 'currency', 'account_number', 'customer_id', 'result', 'error', 'request_id', 'payment_status'];
        const csv = pipeline(source, stringify({ header: true, columns, escape_formulas: true }), () => undefined);
        call.reply.header('content-type', 'text/csv; charset=utf-8');
        call.reply.header('content-disposition', `attachment; filename="mass-payout-${batch.id}-results.csv"`);
        return call.reply.send(csv);
      },
    },
  ];
}

// ---------------------------------------------------------------- the job

interface TakenRow {
  batch_id: string;
  row_number: number;
  project_id: string;
  payment_id: string;
  amount_minor: string;
  currency: string;
  account_number: string;
  customer_id: string;
  description: string | null;
  raw: Record<string, string>;
  customer_ip_address: string;
}

/**
 * Sends up to `rowsPerTake` pending rows of running batches; returns how many
 * it took. Everything goes through the one transaction that holds the rows'
 * locks: sending through other pool connections while holding this one is
 * how a full pool deadlocks.
 */
export async function sendPendingRows(context: PlatformContext): Promise<number> {
  return withTransaction(context.pool, async (tx) => {
    const { rows } = await tx.query<TakenRow>(
      `SELECT r.batch_id::text AS batch_id, r.row_number, b.project_id::text AS project_id, r.payment_id, r.amount_minor::text AS amount_minor,
              r.currency, r.account_number, r.customer_id, r.description, r.raw, b.customer_ip_address
         FROM mass_payout_rows r JOIN mass_payout_batches b ON b.id = r.batch_id
        WHERE b.status = 'running' AND r.status = 'pending'
        ORDER BY r.batch_id, r.row_number LIMIT ${rowsPerTake} FOR UPDATE OF r SKIP LOCKED`,
    );
    if (rows.length === 0) return 0;
    const projects = new Map<string, Project | undefined>();
    for (const row of rows) if (!projects.has(row.project_id)) projects.set(row.project_id, await findProject(tx, BigInt(row.project_id), context.now()));
    for (const row of rows) {
      const outcome = await sendRow(context, tx, projects.get(row.project_id), row);
      await tx.query('UPDATE mass_payout_rows SET status = $3, error = $4, request_id = $5, processed_at = now() WHERE batch_id = $1 AND row_number = $2', [
        row.batch_id,
        row.row_number,
        outcome.status,
        outcome.error,
        outcome.requestId,
      ]);
    }
    const batchIds = [...new Set(rows.map((row) => row.batch_id))];
    await tx.query(
      `UPDATE mass_payout_batches b SET status = 'done', finished_at = now()
        WHERE b.id = ANY($1::bigint[]) AND b.status = 'running'
          AND NOT EXISTS (SELECT 1 FROM mass_payout_rows r WHERE r.batch_id = b.id AND r.status = 'pending')`,
      [batchIds],
    );
    return rows.length;
  });
}

async function sendRow(
  context: PlatformContext,
  tx: pg.PoolClient,
  project: Project | undefined,
  row: TakenRow,
): Promise<{ status: 'accepted' | 'failed'; error: string | null; requestId: string | null }> {
  if (!project) return { status: 'failed', error: 'project not found', requestId: null };
  try {
    const body = payoutBodyFor(project, {
      paymentId: row.payment_id,
      amountMinor: BigInt(row.amount_minor),
      currency: row.currency.trim(),
      accountNumber: row.account_number,
      customerId: row.customer_id,
      customerIpAddress: row.customer_ip_address,
      description: row.description ?? undefined,
      customerEmail: row.raw.customer_email || undefined,
      customerCountry: row.raw.customer_country || undefined,
    });
    const accepted = await acceptNewPayment(context, project, 'paypal', 'payout', body, tx);
    return { status: 'accepted', error: null, requestId: accepted.request_id };
  } catch (error) {
    if (!(error instanceof GateError)) throw error;
    if (error.entry.code === '3041') {
      // Sent already (by a node that wrote payouts apart from their rows), if it is the same payout.
      const existing = await findPayment(tx, project.id, row.payment_id);
      const same =
        existing?.type === 'payout' &&
        existing.amountMinor === BigInt(row.amount_minor) &&
        existing.currency === row.currency.trim() &&
        existing.accountNumber === row.account_number;
      if (same) return { status: 'accepted', error: null, requestId: null };
    }
    return { status: 'failed', error: `${error.entry.code}: ${error.message}`, requestId: null };
  }
}

/** Each node sends pending rows: at once when kicked (a batch started here), and every `intervalMs` (batches other nodes started, or left by a crash). */
export function startMassPayoutWorker(context: PlatformContext, intervalMs: number): { kick(): void; stop(): Promise<void> } {
  let stopped = false;
  let busy = false;
  let again = false;
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    if (stopped) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    running = (async () => {
      // Bounded: at most this many takes per run; the timer picks up the rest.
      for (let take = 0; take < 1_000 && !stopped; take += 1) {
        if ((await sendPendingRows(context)) === 0) break;
      }
    })()
      .catch((error) => context.log.error({ err: error }, 'mass payout worker failed'))
      .finally(() => {
        busy = false;
        if (again) {
          again = false;
          run();
        }
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    kick: run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
