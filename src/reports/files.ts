import { Readable } from 'node:stream';
import type pg from 'pg';
import type { Queryable } from '../store/db.ts';
import { csvExport, type ExportFilters } from './csv.ts';
import type { ReportKind } from './queries.ts';

/**
 * Generated reports, kept in PostgreSQL so any node can serve them: a
 * `report_files` row plus its content in chunks of at most `chunkBytesMax`.
 * Writing streams from the export cursor into chunks; reading streams chunk
 * by chunk. Neither holds a whole report in memory.
 */
export const chunkBytesMax = 1024 * 1024;

export interface ReportFile {
  id: bigint;
  merchantId: bigint;
  projectId: bigint | null;
  scheduleId: bigint | null;
  kind: ReportKind;
  periodFrom: Date;
  periodTo: Date;
  rowCount: number;
  byteCount: number;
  createdAt: Date;
}

type ReportRow = {
  id: string;
  merchant_id: string;
  project_id: string | null;
  schedule_id: string | null;
  kind: ReportKind;
  period_from: Date;
  period_to: Date;
  row_count: number;
  byte_count: string;
  created_at: Date;
};

const reportColumns = `id::text AS id, merchant_id::text AS merchant_id, project_id::text AS project_id, schedule_id::text AS schedule_id, kind,
  period_from, period_to, row_count, byte_count::text AS byte_count, created_at`;

function toReport(row: ReportRow): ReportFile {
  return {
    id: BigInt(row.id),
    merchantId: BigInt(row.merchant_id),
    projectId: row.project_id === null ? null : BigInt(row.project_id),
    scheduleId: row.schedule_id === null ? null : BigInt(row.schedule_id),
    kind: row.kind,
    periodFrom: row.period_from,
    periodTo: row.period_to,
    rowCount: row.row_count,
    byteCount: Number(row.byte_count),
    createdAt: row.created_at,
  };
}

export function reportView(report: ReportFile) {
  return {
    id: Number(report.id),
    project_id: report.projectId === null ? null : Number(report.projectId),
    schedule_id: report.scheduleId === null ? null : Number(report.scheduleId),
    kind: report.kind,
    period_from: report.periodFrom.toISOString(),
    period_to: report.periodTo.toISOString(),
    row_count: report.rowCount,
    byte_count: report.byteCount,
    created_at: report.createdAt.toISOString(),
    file_name: reportFileName(report),
  };
}

export function reportFileName(report: ReportFile): string {
  const day = (date: Date) => date.toISOString().slice(0, 10);
  return `${report.kind}-${report.projectId ?? 'all'}-${day(report.periodFrom)}-${day(report.periodTo)}-${report.id}.csv`;
}

export interface NewReport {
  merchantId: bigint;
  projectId: bigint | null;
  scheduleId: bigint | null;
  createdBy: bigint | null;
  periodFrom: Date;
  periodTo: Date;
  export: ExportFilters;
}

/**
 * Generates a report in the caller's transaction `tx`, reading the export
 * through an SQL cursor in that same transaction (a second pool connection,
 * taken while `tx` is held, is how a full pool deadlocks): the file row, its
 * chunks and its counts commit together or not at all.
 */
export async function generateReport(tx: pg.PoolClient, input: NewReport): Promise<ReportFile> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO report_files (merchant_id, project_id, schedule_id, kind, period_from, period_to, row_count, byte_count, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, 0, 0, $7) RETURNING id::text AS id`,
    [
      String(input.merchantId), input.projectId === null ? null : String(input.projectId), input.scheduleId === null ? null : String(input.scheduleId),
      input.export.kind, input.periodFrom, input.periodTo, input.createdBy === null ? null : String(input.createdBy),
    ],
  );
  const reportId = rows[0].id;
  let failure: Error | undefined;
  const output = csvExport(tx, input.export, (error) => {
    failure = error;
  });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let sequence = 0;
  let byteCount = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    await tx.query('INSERT INTO report_file_chunks (report_id, sequence, data) VALUES ($1, $2, $3)', [reportId, sequence, Buffer.concat(pending)]);
    sequence += 1;
    pending = [];
    pendingBytes = 0;
  };
  for await (const chunk of output.stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), 'utf8');
    pending.push(buffer);
    pendingBytes += buffer.length;
    byteCount += buffer.length;
    if (pendingBytes >= chunkBytesMax) await flush();
  }
  if (failure) throw failure;
  await flush();
  const updated = await tx.query<ReportRow>(`UPDATE report_files SET row_count = $2, byte_count = $3 WHERE id = $1 RETURNING ${reportColumns}`, [
    reportId,
    output.rowCount(),
    byteCount,
  ]);
  return toReport(updated.rows[0]);
}

export async function findReport(db: Queryable, merchantId: bigint, reportId: bigint): Promise<ReportFile | undefined> {
  const { rows } = await db.query<ReportRow>(`SELECT ${reportColumns} FROM report_files WHERE id = $1 AND merchant_id = $2`, [String(reportId), String(merchantId)]);
  return rows[0] ? toReport(rows[0]) : undefined;
}

export async function listReports(db: Queryable, merchantId: bigint, limit: number): Promise<ReportFile[]> {
  const { rows } = await db.query<ReportRow>(`SELECT ${reportColumns} FROM report_files WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2`, [String(merchantId), limit]);
  return rows.map(toReport);
}

/** The report's content, chunk by chunk. */
export function reportContent(pool: pg.Pool, reportId: bigint): Readable {
  return Readable.from(
    (async function* () {
      for (let sequence = 0; ; sequence += 1) {
        const { rows } = await pool.query<{ data: Buffer }>('SELECT data FROM report_file_chunks WHERE report_id = $1 AND sequence = $2', [String(reportId), sequence]);
        if (!rows[0]) return;
        yield rows[0].data;
      }
    })(),
    { objectMode: false },
  );
}
