import { randomBytes } from 'node:crypto';
import type { Queryable } from '../store/db.ts';

/**
 * Data API keys: per-user HMAC secrets generated in the Dashboard. A request
 * names its user (`user_id`) and is signed with one of that user's active
 * keys, with the Gate algorithm. Keys are HMAC secrets, so the raw value is
 * kept (like project secret keys); it is shown once, when created.
 */
export interface DataApiKey {
  id: bigint;
  userId: bigint;
  label: string;
  createdAt: Date;
  revokedAt: Date | null;
}

type KeyRow = { id: bigint | string; user_id: bigint | string; label: string; created_at: Date; revoked_at: Date | null };
const toKey = (row: KeyRow): DataApiKey => ({
  id: BigInt(row.id),
  userId: BigInt(row.user_id),
  label: row.label,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export function dataApiKeyView(key: DataApiKey) {
  return { id: Number(key.id), user_id: Number(key.userId), label: key.label, created_at: key.createdAt.toISOString(), revoked_at: key.revokedAt?.toISOString() ?? null };
}

/** Active keys a user may hold at once (rotation needs two). */
export const activeKeysMax = 5;

export async function createDataApiKey(db: Queryable, userId: bigint, label: string): Promise<{ key: DataApiKey; secretKey: string }> {
  const secretKey = randomBytes(32).toString('base64url');
  const { rows } = await db.query<KeyRow>(
    'INSERT INTO data_api_keys (user_id, secret_key, label) VALUES ($1, $2, $3) RETURNING id, user_id, label, created_at, revoked_at',
    [String(userId), secretKey, label],
  );
  return { key: toKey(rows[0]), secretKey };
}

export async function listDataApiKeys(db: Queryable, userId: bigint): Promise<DataApiKey[]> {
  const { rows } = await db.query<KeyRow>('SELECT id, user_id, label, created_at, revoked_at FROM data_api_keys WHERE user_id = $1 ORDER BY id', [String(userId)]);
  return rows.map(toKey);
}

export async function countActiveDataApiKeys(db: Queryable, userId: bigint): Promise<number> {
  const { rows } = await db.query<{ count: string }>('SELECT count(*)::text AS count FROM data_api_keys WHERE user_id = $1 AND revoked_at IS NULL', [String(userId)]);
  return Number(rows[0].count);
}

export async function revokeDataApiKey(db: Queryable, userId: bigint, keyId: bigint): Promise<boolean> {
  const result = await db.query('UPDATE data_api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL', [String(keyId), String(userId)]);
  return (result.rowCount ?? 0) > 0;
}

export async function activeSecretsOf(db: Queryable, userId: bigint): Promise<string[]> {
  const { rows } = await db.query<{ secret_key: string }>(
    'SELECT secret_key FROM data_api_keys WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC',
    [String(userId)],
  );
  return rows.map((row) => row.secret_key);
}
