import type { Queryable } from '../store/db.ts';
import type { PciDocumentKind } from './compliance.ts';

/**
 * What the PCI DSS rules (compliance.ts) read from PostgreSQL: a merchant's
 * documents and its production volume. Shared by the Dashboard's status and
 * the reminder sweep, so both judge a merchant alike.
 */
export interface PciDocumentRecord {
  id: bigint;
  kind: PciDocumentKind;
  issuedOn: string;
  validUntil: string;
  reference: string;
}

/** A merchant's documents, by kind, the latest validity first (dates as YYYY-MM-DD). */
export async function listPciDocuments(db: Queryable, merchantId: bigint): Promise<PciDocumentRecord[]> {
  const { rows } = await db.query<{ id: string; kind: PciDocumentKind; issued_on: string; valid_until: string; reference: string }>(
    `SELECT id::text AS id, kind, to_char(issued_on, 'YYYY-MM-DD') AS issued_on, to_char(valid_until, 'YYYY-MM-DD') AS valid_until, reference
       FROM pci_documents WHERE merchant_id = $1 ORDER BY kind, valid_until DESC, id DESC`,
    [String(merchantId)],
  );
  return rows.map((row) => ({ id: BigInt(row.id), kind: row.kind, issuedOn: row.issued_on, validUntil: row.valid_until, reference: row.reference }));
}

/** Operations of the merchant's production projects over the 365 days before `now` (AOC or SAQ). */
export async function countOperationsLastYear(db: Queryable, merchantId: bigint, now: Date): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    `SELECT count(*)::text AS count FROM operations o JOIN projects p ON p.id = o.project_id
      WHERE p.merchant_id = $1 AND p.mode = 'production' AND o.created_at >= $2`,
    [String(merchantId), new Date(now.getTime() - 365 * 86_400_000)],
  );
  return Number(rows[0].count);
}
