import type { PciDocumentKind } from '../accounts/compliance.ts';
import type { Queryable } from '../store/db.ts';
import type { NotificationKind, PlannedNotification } from './pci-reminders.ts';

/**
 * Notifications in PostgreSQL: made once (unique dedupe key per merchant),
 * read state per user, and the e-mail copies to send. Every read and change
 * takes the merchant id, so one merchant's users never reach another's rows.
 */
export interface NotificationRecord {
  id: bigint;
  kind: NotificationKind;
  documentKind: PciDocumentKind;
  offsetDays: number | null;
  validUntil: string | null;
  title: string;
  body: string;
  createdAt: Date;
  readAt: Date | null;
}

type NotificationRow = {
  id: string;
  kind: NotificationKind;
  document_kind: PciDocumentKind;
  offset_days: number | null;
  valid_until: string | null;
  title: string;
  body: string;
  created_at: Date;
  read_at: Date | null;
};

const toRecord = (row: NotificationRow): NotificationRecord => ({
  id: BigInt(row.id),
  kind: row.kind,
  documentKind: row.document_kind,
  offsetDays: row.offset_days,
  validUntil: row.valid_until,
  title: row.title,
  body: row.body,
  createdAt: row.created_at,
  readAt: row.read_at,
});

export function notificationView(record: NotificationRecord) {
  return {
    id: Number(record.id),
    kind: record.kind,
    document_kind: record.documentKind,
    offset_days: record.offsetDays,
    valid_until: record.validUntil,
    title: record.title,
    body: record.body,
    created_at: record.createdAt.toISOString(),
    read: record.readAt !== null,
  };
}

/**
 * Inserts a notification unless it exists (its dedupe key, or its document and
 * offset). Two nodes inserting the same one at once: the second waits for the
 * first to commit, then does nothing. Returns the new id, or undefined.
 */
export async function insertNotification(db: Queryable, merchantId: bigint, planned: PlannedNotification, createdAt: Date): Promise<bigint | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO notifications (merchant_id, kind, document_kind, pci_document_id, offset_days, valid_until, title, body, dedupe_key, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT DO NOTHING RETURNING id::text AS id`,
    [
      String(merchantId), planned.kind, planned.documentKind, planned.pciDocumentId === null ? null : String(planned.pciDocumentId),
      planned.offsetDays, planned.validUntil, planned.title, planned.body, planned.dedupeKey, createdAt,
    ],
  );
  return rows[0] ? BigInt(rows[0].id) : undefined;
}

/** The merchant's notifications, newest first, each with whether `userId` has read it. */
export async function listNotifications(
  db: Queryable,
  merchantId: bigint,
  userId: bigint,
  page: { limit: number; beforeId?: bigint; unreadOnly?: boolean },
): Promise<NotificationRecord[]> {
  const { rows } = await db.query<NotificationRow>(
    `SELECT n.id::text AS id, n.kind, n.document_kind, n.offset_days, to_char(n.valid_until, 'YYYY-MM-DD') AS valid_until,
            n.title, n.body, n.created_at, r.read_at
       FROM notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.user_id = $2
      WHERE n.merchant_id = $1 AND ($3::bigint IS NULL OR n.id < $3) AND (NOT $4 OR r.read_at IS NULL)
      ORDER BY n.id DESC LIMIT $5`,
    [String(merchantId), String(userId), page.beforeId === undefined ? null : String(page.beforeId), page.unreadOnly ?? false, page.limit],
  );
  return rows.map(toRecord);
}

export async function countUnread(db: Queryable, merchantId: bigint, userId: bigint): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    `SELECT count(*)::text AS count FROM notifications n
      WHERE n.merchant_id = $1 AND NOT EXISTS (SELECT 1 FROM notification_reads r WHERE r.notification_id = n.id AND r.user_id = $2)`,
    [String(merchantId), String(userId)],
  );
  return Number(rows[0].count);
}

/** Marks one of the merchant's notifications read for `userId`; false when the merchant has no such notification. */
export async function markRead(db: Queryable, merchantId: bigint, userId: bigint, notificationId: bigint, now: Date): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `WITH target AS (SELECT id FROM notifications WHERE id = $1 AND merchant_id = $2),
          marked AS (INSERT INTO notification_reads (notification_id, user_id, read_at) SELECT id, $3, $4 FROM target ON CONFLICT DO NOTHING)
     SELECT EXISTS (SELECT 1 FROM target) AS found`,
    [String(notificationId), String(merchantId), String(userId), now],
  );
  return rows[0].found;
}

/** Marks every notification of the merchant read for `userId`; returns how many were unread. */
export async function markAllRead(db: Queryable, merchantId: bigint, userId: bigint, now: Date): Promise<number> {
  const result = await db.query(
    `INSERT INTO notification_reads (notification_id, user_id, read_at)
     SELECT id, $2, $3 FROM notifications WHERE merchant_id = $1 ON CONFLICT DO NOTHING`,
    [String(merchantId), String(userId), now],
  );
  return result.rowCount ?? 0;
}

/** One e-mail copy per active admin of the merchant (at this moment); returns the new copies' ids. */
export async function createEmailCopies(db: Queryable, notificationId: bigint, merchantId: bigint): Promise<bigint[]> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO notification_emails (notification_id, user_id, email)
     SELECT $1, id, email FROM users WHERE merchant_id = $2 AND role = 'merchant_admin' AND NOT disabled
     ON CONFLICT DO NOTHING RETURNING id::text AS id`,
    [String(notificationId), String(merchantId)],
  );
  return rows.map((row) => BigInt(row.id));
}

type LatestReminders = Map<PciDocumentKind, { title: string; createdAt: Date }>;

/** The latest reminder of each kind of document made for the merchant: document kind → when and what. */
export async function latestRemindersOf(db: Queryable, merchantId: bigint): Promise<LatestReminders> {
  return (await latestRemindersOfMany(db, [merchantId])).get(String(merchantId)) ?? new Map();
}

/** The same for many merchants in one statement, keyed by merchant id (as text). */
export async function latestRemindersOfMany(db: Queryable, merchantIds: readonly bigint[]): Promise<Map<string, LatestReminders>> {
  const { rows } = await db.query<{ merchant_id: string; document_kind: PciDocumentKind; title: string; created_at: Date }>(
    `SELECT DISTINCT ON (merchant_id, document_kind) merchant_id::text AS merchant_id, document_kind, title, created_at
       FROM notifications WHERE merchant_id = ANY($1::bigint[])
      ORDER BY merchant_id, document_kind, id DESC`,
    [merchantIds.map(String)],
  );
  const byMerchant = new Map<string, LatestReminders>();
  for (const row of rows) {
    const reminders = byMerchant.get(row.merchant_id) ?? new Map();
    reminders.set(row.document_kind, { title: row.title, createdAt: row.created_at });
    byMerchant.set(row.merchant_id, reminders);
  }
  return byMerchant;
}
