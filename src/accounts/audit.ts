import type { Queryable } from '../store/db.ts';

/**
 * The append-only audit log: who did what, to what, with which outcome.
 * Written for every admin action (sign-in, refunds, captures, payouts, key
 * rotation, user changes, settings, operator work). The table's triggers
 * refuse UPDATE, DELETE and TRUNCATE, so an entry, once committed, stays.
 */
export interface AuditActor {
  userId: bigint | null;
  email: string | null;
  merchantId: bigint | null;
}

export interface AuditEntry {
  actor: AuditActor;
  /** The merchant the action concerns (the actor's, or the one an operator acted on). */
  merchantId?: bigint | null;
  action: string;
  targetType?: string;
  targetId?: string;
  outcome: 'success' | 'failure';
  details?: Record<string, unknown>;
  ipAddress?: string;
}

export async function writeAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  const merchantId = entry.merchantId !== undefined ? entry.merchantId : entry.actor.merchantId;
  await db.query(
    `INSERT INTO audit_log (actor_user_id, actor_email, merchant_id, action, target_type, target_id, outcome, details, ip_address)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      entry.actor.userId === null ? null : String(entry.actor.userId),
      entry.actor.email,
      merchantId === null ? null : String(merchantId),
      entry.action,
      entry.targetType ?? null,
      entry.targetId ?? null,
      entry.outcome,
      JSON.stringify(entry.details ?? {}, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)),
      entry.ipAddress ?? null,
    ],
  );
}

export interface AuditRecord {
  id: string;
  at: string;
  actor_user_id: number | null;
  actor_email: string | null;
  merchant_id: number | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  details: Record<string, unknown>;
  ip_address: string | null;
}

/** Newest first; `merchantId` null lists every entry (operators). */
export async function listAudit(db: Queryable, merchantId: bigint | null, options: { limit: number; beforeId?: bigint }): Promise<AuditRecord[]> {
  const { rows } = await db.query(
    `SELECT id::text AS id, at, actor_user_id::int AS actor_user_id, actor_email, merchant_id::int AS merchant_id, action, target_type, target_id,
            outcome, details, ip_address
       FROM audit_log
      WHERE ($1::bigint IS NULL OR merchant_id = $1) AND ($2::bigint IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [merchantId === null ? null : String(merchantId), options.beforeId === undefined ? null : String(options.beforeId), options.limit],
  );
  return rows.map((row) => ({ ...row, at: (row.at as Date).toISOString() }));
}
