import { randomBytes } from 'node:crypto';
import type { OperationStatus } from '../domain/statuses.ts';
import type { Queryable } from '../store/db.ts';
import { languageFor, type Language } from './i18n.ts';

/**
 * Store helpers of the Payment Page (table `payment_page_sessions`,
 * migration 004) and the few reads of payments and operations the page needs
 * to show a payment's progress.
 */
export interface PageSession {
  token: string;
  projectId: bigint;
  paymentId: string;
  fingerprint: string;
  language: Language;
  successUrl: string | null;
  failUrl: string | null;
  linkId: string | null;
  linkAttempt: number | null;
  startedAt: Date | null;
  returnedAt: Date | null;
  createdAt: Date;
}

interface SessionRow {
  token: string;
  project_id: bigint | string;
  payment_id: string;
  fingerprint: string;
  language_code: string;
  success_url: string | null;
  fail_url: string | null;
  link_id: string | null;
  link_attempt: number | null;
  started_at: Date | null;
  returned_at: Date | null;
  created_at: Date;
}

function toSession(row: SessionRow): PageSession {
  return {
    token: row.token,
    projectId: BigInt(row.project_id),
    paymentId: row.payment_id,
    fingerprint: row.fingerprint,
    language: languageFor(row.language_code),
    successUrl: row.success_url,
    failUrl: row.fail_url,
    linkId: row.link_id,
    linkAttempt: row.link_attempt,
    startedAt: row.started_at,
    returnedAt: row.returned_at,
    createdAt: row.created_at,
  };
}

/** 32 characters of base64url: 192 random bits, unguessable. */
export function newSessionToken(): string {
  return randomBytes(24).toString('base64url');
}

export const sessionTokenPattern = /^[A-Za-z0-9_-]{32}$/;

export interface NewSession {
  projectId: bigint;
  paymentId: string;
  fingerprint: string;
  language: Language;
  successUrl?: string;
  failUrl?: string;
  link?: { id: string; attempt: number; nonce: string };
}

export async function insertSession(db: Queryable, input: NewSession): Promise<PageSession> {
  const { rows } = await db.query<SessionRow>(
    `INSERT INTO payment_page_sessions (token, project_id, payment_id, fingerprint, language_code, success_url, fail_url, link_id, link_attempt, link_nonce)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [
      newSessionToken(), String(input.projectId), input.paymentId, input.fingerprint, input.language, input.successUrl ?? null,
      input.failUrl ?? null, input.link?.id ?? null, input.link?.attempt ?? null, input.link?.nonce ?? null,
    ],
  );
  return toSession(rows[0]);
}

/**
 * The session of a page URL: the existing one for this payment_id, or a new
 * one. Race-safe: two first opens at once insert one row (the unique
 * constraint decides), and both read it back.
 */
export async function openSession(db: Queryable, input: NewSession): Promise<PageSession> {
  const { rows } = await db.query<SessionRow>(
    `INSERT INTO payment_page_sessions (token, project_id, payment_id, fingerprint, language_code, success_url, fail_url)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id, payment_id) DO NOTHING RETURNING *`,
    [newSessionToken(), String(input.projectId), input.paymentId, input.fingerprint, input.language, input.successUrl ?? null, input.failUrl ?? null],
  );
  if (rows[0]) return toSession(rows[0]);
  const existing = await findSessionOfPayment(db, input.projectId, input.paymentId);
  if (!existing) throw new Error('payment page session vanished after a conflicting insert');
  return existing;
}

export async function findSessionOfPayment(db: Queryable, projectId: bigint, paymentId: string): Promise<PageSession | undefined> {
  const { rows } = await db.query<SessionRow>('SELECT * FROM payment_page_sessions WHERE project_id = $1 AND payment_id = $2', [String(projectId), paymentId]);
  return rows[0] ? toSession(rows[0]) : undefined;
}

export async function findSession(db: Queryable, token: string): Promise<PageSession | undefined> {
  if (!sessionTokenPattern.test(token)) return undefined;
  const { rows } = await db.query<SessionRow>('SELECT * FROM payment_page_sessions WHERE token = $1', [token]);
  return rows[0] ? toSession(rows[0]) : undefined;
}

export async function deleteSession(db: Queryable, token: string): Promise<void> {
  await db.query('DELETE FROM payment_page_sessions WHERE token = $1', [token]);
}

/** The customer chose a method: the payment is being created. */
export async function markStarted(db: Queryable, token: string): Promise<void> {
  await db.query('UPDATE payment_page_sessions SET started_at = now() WHERE token = $1 AND started_at IS NULL', [token]);
}

/** The customer is back from the wallet; from now on an unfinished payment is shown as "being processed". */
export async function markReturned(db: Queryable, token: string): Promise<void> {
  await db.query('UPDATE payment_page_sessions SET returned_at = now() WHERE token = $1 AND returned_at IS NULL', [token]);
}

/** Where the sale stands at the provider, as far as the page cares. */
export interface SaleProgress {
  status: OperationStatus;
  code: string;
  message: string;
  /** The wallet's approval URL: set once the provider job has created the order. */
  approvalUrl: string | undefined;
}

/**
 * The first sale of a payment and its approval URL. The approval URL is the
 * intermediate callback's `redirect_data.url` (the callback row is written
 * in the same transaction as the "awaiting redirect result" state, whether
 * or not callbacks are delivered); `operations.provider_response.redirectUrl`
 * is read as well. Both reads use indexes (callbacks by payment_ref), since
 * a waiting page asks once a second.
 */
export async function findSaleProgress(db: Queryable, paymentRef: bigint): Promise<SaleProgress | undefined> {
  const { rows } = await db.query<{ id: string; status: OperationStatus; code: string; message: string; redirect_url: string | null; callback_body: string | null }>(
    `SELECT o.id::text AS id, o.status, o.code, o.message, o.provider_response ->> 'redirectUrl' AS redirect_url,
       (SELECT c.body FROM callbacks c WHERE c.payment_ref = o.payment_ref AND c.operation_id = o.id AND c.kind = 'intermediate'
          ORDER BY c.id DESC LIMIT 1) AS callback_body
     FROM operations o WHERE o.payment_ref = $1 AND o.type IN ('sale', 'auth') ORDER BY o.id LIMIT 1`,
    [String(paymentRef)],
  );
  const row = rows[0];
  if (!row) return undefined;
  let approvalUrl: string | undefined;
  if (row.status === 'awaiting redirect result') {
    approvalUrl = redirectUrlOfCallback(row.callback_body) ?? (row.redirect_url || undefined);
  }
  return { status: row.status, code: row.code, message: row.message, approvalUrl };
}

function redirectUrlOfCallback(body: string | null): string | undefined {
  if (!body) return undefined;
  try {
    const url = (JSON.parse(body) as { redirect_data?: { url?: unknown } }).redirect_data?.url;
    return typeof url === 'string' && /^https?:\/\//.test(url) ? url : undefined;
  } catch {
    return undefined;
  }
}
