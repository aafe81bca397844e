import { randomBytes } from 'node:crypto';
import type { PaymentStatus } from '../domain/statuses.ts';
import type { Queryable } from '../store/db.ts';

/**
 * Payment links (table `payment_links`, migration 004). The payments made
 * through a link are Payment Page sessions with `link_id` set; their
 * payment_id is `link-<link id>-<attempt>`.
 */
export interface PaymentLink {
  id: string;
  projectId: bigint;
  amountMinor: bigint;
  currency: string;
  description: string;
  singleUse: boolean;
  expiresAt: Date | null;
  attempts: number;
  createdAt: Date;
}

interface LinkRow {
  id: string;
  project_id: bigint | string;
  amount_minor: bigint | string;
  currency: string;
  description: string;
  single_use: boolean;
  expires_at: Date | null;
  attempts: number;
  created_at: Date;
}

function toLink(row: LinkRow): PaymentLink {
  return {
    id: row.id,
    projectId: BigInt(row.project_id),
    amountMinor: BigInt(row.amount_minor),
    currency: row.currency.trim(),
    description: row.description,
    singleUse: row.single_use,
    expiresAt: row.expires_at,
    attempts: row.attempts,
    createdAt: row.created_at,
  };
}

const linkIdAlphabet = 'abcdefghijklmnopqrstuvwxyz234567';
export const linkIdPattern = /^[a-z2-7]{20}$/;

/** 20 characters of lower-case base32: 100 random bits, unguessable, safe in a URL and in a payment_id. */
export function newLinkId(): string {
  return [...randomBytes(20)].map((byte) => linkIdAlphabet[byte & 31]).join('');
}

export function linkPaymentId(linkId: string, attempt: number): string {
  return `link-${linkId}-${attempt}`;
}

export interface NewLink {
  projectId: bigint;
  amountMinor: bigint;
  currency: string;
  description: string;
  singleUse: boolean;
  expiresAt: Date | null;
}

export async function insertLink(db: Queryable, input: NewLink): Promise<PaymentLink> {
  const { rows } = await db.query<LinkRow>(
    `INSERT INTO payment_links (id, project_id, amount_minor, currency, description, single_use, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [newLinkId(), String(input.projectId), String(input.amountMinor), input.currency, input.description, input.singleUse, input.expiresAt],
  );
  return toLink(rows[0]);
}

export async function findLink(db: Queryable, id: string): Promise<PaymentLink | undefined> {
  if (!linkIdPattern.test(id)) return undefined;
  const { rows } = await db.query<LinkRow>('SELECT * FROM payment_links WHERE id = $1', [id]);
  return rows[0] ? toLink(rows[0]) : undefined;
}

/** Locks the link row: attempts are numbered, and a single-use link is checked, under this lock. */
export async function lockLink(db: Queryable, id: string): Promise<PaymentLink | undefined> {
  if (!linkIdPattern.test(id)) return undefined;
  const { rows } = await db.query<LinkRow>('SELECT * FROM payment_links WHERE id = $1 FOR UPDATE', [id]);
  return rows[0] ? toLink(rows[0]) : undefined;
}

/** Takes the next attempt number; call with the link locked. */
export async function takeAttemptNumber(db: Queryable, id: string): Promise<number> {
  const { rows } = await db.query<{ attempts: number }>('UPDATE payment_links SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts', [id]);
  return rows[0].attempts;
}

/** One attempt to pay a link: its page session and, once created, its payment. */
export interface LinkAttempt {
  token: string;
  attempt: number;
  paymentId: string;
  nonce: string;
  sessionCreatedAt: Date;
  paymentStatus: PaymentStatus | null;
  paymentUpdatedAt: Date | null;
}

export async function listAttempts(db: Queryable, link: PaymentLink): Promise<LinkAttempt[]> {
  const { rows } = await db.query<{
    token: string;
    link_attempt: number;
    payment_id: string;
    link_nonce: string;
    created_at: Date;
    status: PaymentStatus | null;
    updated_at: Date | null;
  }>(
    `SELECT s.token, s.link_attempt, s.payment_id, s.link_nonce, s.created_at, p.status, p.updated_at
     FROM payment_page_sessions s
     LEFT JOIN payments p ON p.project_id = s.project_id AND p.payment_id = s.payment_id
     WHERE s.link_id = $1 ORDER BY s.link_attempt`,
    [link.id],
  );
  return rows.map((row) => ({
    token: row.token,
    attempt: row.link_attempt,
    paymentId: row.payment_id,
    nonce: row.link_nonce,
    sessionCreatedAt: row.created_at,
    paymentStatus: row.status,
    paymentUpdatedAt: row.updated_at,
  }));
}

/** A project's links, newest first (at most `limit`). */
export async function listLinks(db: Queryable, projectId: bigint, limit = 200): Promise<PaymentLink[]> {
  const { rows } = await db.query<LinkRow>('SELECT * FROM payment_links WHERE project_id = $1 ORDER BY created_at DESC, id LIMIT $2', [String(projectId), limit]);
  return rows.map(toLink);
}

/** The attempts of several links in one query, by link id (each list in attempt order). */
export async function listAttemptsOfLinks(db: Queryable, links: readonly PaymentLink[]): Promise<Map<string, LinkAttempt[]>> {
  const byLink = new Map<string, LinkAttempt[]>(links.map((link) => [link.id, []]));
  if (links.length === 0) return byLink;
  const { rows } = await db.query<{
    link_id: string;
    token: string;
    link_attempt: number;
    payment_id: string;
    link_nonce: string;
    created_at: Date;
    status: PaymentStatus | null;
    updated_at: Date | null;
  }>(
    `SELECT s.link_id, s.token, s.link_attempt, s.payment_id, s.link_nonce, s.created_at, p.status, p.updated_at
     FROM payment_page_sessions s
     LEFT JOIN payments p ON p.project_id = s.project_id AND p.payment_id = s.payment_id
     WHERE s.link_id = ANY($1::text[]) ORDER BY s.link_id, s.link_attempt`,
    [links.map((link) => link.id)],
  );
  for (const row of rows) {
    byLink.get(row.link_id)?.push({
      token: row.token,
      attempt: row.link_attempt,
      paymentId: row.payment_id,
      nonce: row.link_nonce,
      sessionCreatedAt: row.created_at,
      paymentStatus: row.status,
      paymentUpdatedAt: row.updated_at,
    });
  }
  return byLink;
}
