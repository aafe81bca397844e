import { Readable, Transform, pipeline } from 'node:stream';
import { stringify } from 'csv-stringify';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Queryable } from '../store/db.ts';
import { csvLayouts, operationExportQuery, paymentExportQuery, type OperationFilters, type PaymentFilters, type Query, type ReportKind } from './queries.ts';

/**
 * CSV exports that stream: a PostgreSQL cursor reads `batchRows` rows at a
 * time, csv-stringify turns them into CSV, and the result is piped onward
 * (an HTTP response, or report chunks). Back-pressure flows end to end, so
 * memory stays bounded by a batch whatever the export's size.
 */
export const batchRows = 1000;

/** Rows of `query` through a cursor on a connection of its own, released when iteration ends or stops early. */
export async function* cursorRows<Row>(pool: pg.Pool, query: Query, batchSize = batchRows): AsyncGenerator<Row> {
  const client = await pool.connect();
  let cursor: Cursor<Row> | undefined;
  try {
    cursor = client.query(new Cursor<Row>(query.text, query.values));
    for (;;) {
      const rows = await cursor.read(batchSize);
      if (rows.length === 0) break;
      yield* rows;
    }
  } finally {
    // An export abandoned midway (client hung up) closes its cursor here too.
    await cursor?.close().catch(() => undefined);
    client.release();
  }
}

let transactionCursorCount = 0;

/**
 * Rows of `query` through an SQL cursor (DECLARE/FETCH) in the caller's
 * transaction `tx`. Unlike a pg-cursor, which keeps the connection busy until
 * it closes, the caller may run other statements on `tx` between batches
 * (a stored report writes its chunks as it reads), and no second pool
 * connection is needed while `tx` is held.
 */
export async function* transactionCursorRows<Row>(tx: pg.PoolClient, query: Query, batchSize = batchRows): AsyncGenerator<Row> {
  transactionCursorCount = (transactionCursorCount + 1) % 1_000_000;
  const name = `export_cursor_${transactionCursorCount}`;
  await tx.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${query.text}`, query.values as unknown[]);
  try {
    for (;;) {
      const { rows } = await tx.query(`FETCH FORWARD ${batchSize} FROM ${name}`);
      if (rows.length === 0) break;
      yield* rows as Row[];
    }
  } finally {
    await tx.query(`CLOSE ${name}`).catch(() => undefined);
  }
}

/** A pool reads through a cursor on a connection of its own; a transaction's client through an SQL cursor in it. */
function rowsOf<Row>(db: Queryable, query: Query): AsyncGenerator<Row> {
  return db instanceof pg.Pool ? cursorRows<Row>(db, query) : transactionCursorRows<Row>(db, query);
}

export type ExportFilters = { kind: 'payments'; filters: PaymentFilters } | { kind: 'operations'; filters: OperationFilters };

/** The source rows of an export, already in CSV column order. */
function records(db: Queryable, spec: ExportFilters): AsyncGenerator<unknown[]> {
  if (spec.kind === 'payments') {
    const layout = csvLayouts.payments;
    return (async function* () {
      for await (const row of rowsOf(db, paymentExportQuery(spec.filters))) yield layout.record(row as never);
    })();
  }
  const layout = csvLayouts.operations;
  return (async function* () {
    for await (const row of rowsOf(db, operationExportQuery(spec.filters))) yield layout.record(row as never);
  })();
}

export interface CsvExport {
  stream: Readable;
  /** Data rows written so far (the header excluded). */
  rowCount(): number;
}

/**
 * A readable CSV stream of an export, read from `db`: the pool (a connection
 * of its own for the cursor) or the caller's transaction. Values that a
 * spreadsheet would run as a formula (starting with =, +, -, @) are prefixed
 * with a quote.
 */
export function csvExport(db: Queryable, spec: ExportFilters, onError: (error: Error) => void = () => undefined): CsvExport {
  let rows = 0;
  const counter = new Transform({
    objectMode: true,
    transform(record, _encoding, done) {
      rows += 1;
      done(null, record);
    },
  });
  const columns: readonly string[] = csvLayouts[spec.kind as ReportKind].columns;
  const stringifier = stringify({ header: true, columns: [...columns], escape_formulas: true, cast: { boolean: (value) => (value ? '1' : '0') } });
  const stream = pipeline(Readable.from(records(db, spec)), counter, stringifier, (error) => {
    if (error) onError(error);
  });
  return { stream, rowCount: () => rows };
}
