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
  return (await listPciDocumentsOf(db, [merchantId])).get(String(merchantId)) ?? [];
}

/** The same for many merchants in one statement, keyed by merchant id (as text); a merchant without documents is absent. */
export async function listPciDocumentsOf(db: Queryable, merchantIds: readonly bigint[]): Promise<Map<string, PciDocumentRecord[]>> {
  const { rows } = await db.query<{ merchant_id: string; id: string; kind: PciDocumentKind; issued_on: string; valid_until: string; reference: string }>(
    `SELECT merchant_id::text AS merchant_id, id::text AS id, kind, to_char(issued_on, 'YYYY-MM-DD') AS issued_on,
            to_char(valid_until, 'YYYY-MM-DD') AS valid_until, reference
       FROM pci_documents WHERE merchant_id = ANY($1::bigint[]) ORDER BY merchant_id, kind, valid_until DESC, id DESC`,
    [merchantIds.map(String)],
  );
  const byMerchant = new Map<string, PciDocumentRecord[]>();
  for (const row of rows) {
    const documents = byMerchant.get(row.merchant_id) ?? [];
    documents.push({ id: BigInt(row.id), kind: row.kind, issuedOn: row.issued_on, validUntil: row.valid_until, reference: row.reference });
    byMerchant.set(row.merchant_id, documents);
  }
  return byMerchant;
}

/** Operations of the merchant's production projects over the 365 days before `now` (AOC or SAQ). */
export async function countOperationsLastYear(db: Queryable, merchantId: bigint, now: Date): Promise<number> {
  return (await countOperationsLastYearOf(db, [merchantId], now)).get(String(merchantId)) ?? 0;
}

/** The same for many merchants in one statement, keyed by merchant id (as text); a merchant without operations is absent. */
export async function countOperationsLastYearOf(db: Queryable, merchantIds: readonly bigint[], now: Date): Promise<Map<string, number>> {
  const { rows } = await db.query<{ merchant_id: string; count: string }>(
    `SELECT p.merchant_id::text AS merchant_id, count(*)::text AS count FROM operations o JOIN projects p ON p.id = o.project_id
      WHERE p.merchant_id = ANY($1::bigint[]) AND p.mode = 'production' AND o.created_at >= $2 GROUP BY p.merchant_id`,
    [merchantIds.map(String), new Date(now.getTime() - 365 * 86_400_000)],
  );
  return new Map(rows.map((row) => [row.merchant_id, Number(row.count)]));
}
