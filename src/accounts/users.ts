import type pg from 'pg';
import type { Queryable } from '../store/db.ts';
import { decoyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';

/**
 * Dashboard users: merchant users (`merchant_admin`, `merchant_viewer`) see
 * their own merchant's projects; `operator` users run the platform (merchants,
 * projects, onboarding, compliance, FX) and belong to no merchant.
 */
export const roles = ['merchant_admin', 'merchant_viewer', 'operator'] as const;
export type Role = (typeof roles)[number];
export const merchantRoles = ['merchant_admin', 'merchant_viewer'] as const satisfies readonly Role[];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

export interface User {
  id: bigint;
  email: string;
  role: Role;
  merchantId: bigint | null;
  disabled: boolean;
  lockedUntil: Date | null;
  createdAt: Date;
}

interface UserRow {
  id: bigint | string;
  email: string;
  role: Role;
  merchant_id: bigint | string | null;
  password_hash: string;
  failed_sign_ins: number;
  locked_until: Date | null;
  disabled: boolean;
  created_at: Date;
}

function toUser(row: UserRow): User {
  return {
    id: BigInt(row.id),
    email: row.email,
    role: row.role,
    merchantId: row.merchant_id === null ? null : BigInt(row.merchant_id),
    disabled: row.disabled,
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
  };
}

export function userView(user: User) {
  return {
    id: Number(user.id),
    email: user.email,
    role: user.role,
    merchant_id: user.merchantId === null ? null : Number(user.merchantId),
    disabled: user.disabled,
    locked_until: user.lockedUntil?.toISOString() ?? null,
    created_at: user.createdAt.toISOString(),
  };
}

/** Consecutive failed sign-ins that lock an account, and for how long. */
export const failedSignInsMax = 10;
export const lockoutMs = 30 * 60 * 1000;

export interface NewUser {
  email: string;
  role: Role;
  merchantId: bigint | null;
  password: string;
}

/** Raises the unique violation `users_email_unique` for a taken email (any letter case). */
export async function createUser(db: Queryable, input: NewUser): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (email, role, merchant_id, password_hash) VALUES ($1, $2, $3, $4) RETURNING *`,
    [input.email.trim(), input.role, input.merchantId === null ? null : String(input.merchantId), passwordHash],
  );
  return toUser(rows[0]);
}

export async function findUser(db: Queryable, id: bigint): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [String(id)]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function listUsers(db: Queryable, merchantId: bigint | null): Promise<User[]> {
  const { rows } = await db.query<UserRow>(
    'SELECT * FROM users WHERE merchant_id IS NOT DISTINCT FROM $1 ORDER BY id',
    [merchantId === null ? null : String(merchantId)],
  );
  return rows.map(toUser);
}

export interface UserChanges {
  role?: Role;
  disabled?: boolean;
  password?: string;
}

export async function updateUser(db: Queryable, id: bigint, changes: UserChanges): Promise<User> {
  const passwordHash = changes.password === undefined ? null : await hashPassword(changes.password);
  const { rows } = await db.query<UserRow>(
    `UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled), password_hash = COALESCE($4, password_hash),
       failed_sign_ins = CASE WHEN $4::text IS NULL THEN failed_sign_ins ELSE 0 END,
       locked_until = CASE WHEN $4::text IS NULL THEN locked_until ELSE NULL END
     WHERE id = $1 RETURNING *`,
    [String(id), changes.role ?? null, changes.disabled ?? null, passwordHash],
  );
  return toUser(rows[0]);
}

export type SignInResult =
  | { kind: 'signed-in'; user: User }
  | { kind: 'invalid'; user?: User }
  | { kind: 'locked'; user: User; lockedUntil: Date };

/**
 * Checks an email and password under the user's row lock, so concurrent
 * guesses are counted exactly. Ten failures in a row lock the account for 30
 * minutes; while locked even the right password is refused. An unknown email
 * costs one scrypt like a wrong password.
 */
export async function signIn(tx: pg.PoolClient, email: string, password: string, now: Date): Promise<SignInResult> {
  const { rows } = await tx.query<UserRow>('SELECT * FROM users WHERE lower(email) = lower($1) FOR UPDATE', [email.trim()]);
  const row = rows[0];
  if (!row) {
    await verifyPassword(password, await decoyPasswordHash());
    return { kind: 'invalid' };
  }
  const user = toUser(row);
  if (row.locked_until && row.locked_until > now) {
    await verifyPassword(password, await decoyPasswordHash());
    return { kind: 'locked', user, lockedUntil: row.locked_until };
  }
  const matches = await verifyPassword(password, row.password_hash);
  if (matches && !row.disabled) {
    await tx.query('UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1', [String(user.id)]);
    return { kind: 'signed-in', user };
  }
  const failures = row.failed_sign_ins + 1;
  if (failures >= failedSignInsMax) {
    const lockedUntil = new Date(now.getTime() + lockoutMs);
    await tx.query('UPDATE users SET failed_sign_ins = 0, locked_until = $2 WHERE id = $1', [String(user.id), lockedUntil]);
    return { kind: 'locked', user, lockedUntil };
  }
  await tx.query('UPDATE users SET failed_sign_ins = $2 WHERE id = $1', [String(user.id), failures]);
  return { kind: 'invalid', user };
}
