import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../store/db.ts';

/**
 * Dashboard sessions in PostgreSQL. The cookie carries a random 32-byte
 * token; only its SHA-256 is stored. A session ends after 15 minutes without
 * a request (idle) and in any case 12 hours after sign-in. Each session has
 * its own CSRF token (synchronizer pattern) that state-changing requests must
 * send in `x-csrf-token`.
 */
export const sessionIdleMs = 15 * 60 * 1000;
export const sessionLifetimeMs = 12 * 60 * 60 * 1000;
/** last_seen_at is written at most this often, not on every request. */
const touchIntervalMs = 15 * 1000;

export interface Session {
  tokenSha256: Buffer;
  userId: bigint;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export async function createSession(db: Queryable, userId: bigint, now: Date, ipAddress: string | undefined): Promise<{ token: string; session: Session }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const tokenSha256 = digest(token);
  await db.query(
    'INSERT INTO dashboard_sessions (token_sha256, user_id, csrf_token, created_at, last_seen_at, ip_address) VALUES ($1, $2, $3, $4, $4, $5)',
    [tokenSha256, String(userId), csrfToken, now, ipAddress ?? null],
  );
  return { token, session: { tokenSha256, userId, csrfToken, createdAt: now, lastSeenAt: now } };
}

/** The live session for `token`, refreshing its idle timer; an expired one is deleted and not returned. */
export async function resumeSession(db: Queryable, token: string, now: Date): Promise<Session | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const tokenSha256 = digest(token);
  const { rows } = await db.query<{ user_id: bigint | string; csrf_token: string; created_at: Date; last_seen_at: Date }>(
    'SELECT user_id, csrf_token, created_at, last_seen_at FROM dashboard_sessions WHERE token_sha256 = $1',
    [tokenSha256],
  );
  const row = rows[0];
  if (!row) return undefined;
  const idleExpired = now.getTime() - row.last_seen_at.getTime() >= sessionIdleMs;
  const lifetimeExpired = now.getTime() - row.created_at.getTime() >= sessionLifetimeMs;
  if (idleExpired || lifetimeExpired) {
    await endSession(db, token);
    return undefined;
  }
  if (now.getTime() - row.last_seen_at.getTime() >= touchIntervalMs) {
    await db.query('UPDATE dashboard_sessions SET last_seen_at = $2 WHERE token_sha256 = $1', [tokenSha256, now]);
  }
  return { tokenSha256, userId: BigInt(row.user_id), csrfToken: row.csrf_token, createdAt: row.created_at, lastSeenAt: now };
}

export async function endSession(db: Queryable, token: string): Promise<void> {
  await db.query('DELETE FROM dashboard_sessions WHERE token_sha256 = $1', [digest(token)]);
}

/** Signs a user out everywhere (disabled, role or password changed). */
export async function endSessionsOfUser(db: Queryable, userId: bigint): Promise<void> {
  await db.query('DELETE FROM dashboard_sessions WHERE user_id = $1', [String(userId)]);
}

export function csrfTokenMatches(session: Session, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(session.csrfToken, 'utf8');
  const actual = Buffer.from(presented, 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
