import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { PaypalPermission } from '../accounts/paypal-onboarding.ts';
import { Secret } from '../domain/secret.ts';
import type { Queryable } from './db.ts';
import { turnBatchLoader } from './turn-batches.ts';

export type ProjectMode = 'test' | 'production';

export interface Project {
  id: bigint;
  name: string;
  mode: ProjectMode;
  /** Secret keys that verify requests now: the current one first, then the previous one during a rotation overlap. */
  secretKeys: string[];
  secretKey: string;
  callbackUrl: string | null;
  holdExpiryAction: 'cancel' | 'capture';
  holdPeriodSeconds: number;
  paypalEnabled: boolean;
  /** A production project's PayPal REST credentials, once an operator has set them. */
  paypalCredentials: StoredPaypalCredentials | null;
  settlementCurrency: string | null;
  /** A test project's frozen time, when its test clock is in use. */
  testClockAt: Date | null;
}

export interface StoredPaypalCredentials {
  clientId: string;
  /**
   * The client secret sealed with the credentials key (src/security/
   * credentials.ts); or, set by SQL before encryption at rest, in plain text
   * until a node with a key starts and seals it.
   */
  secret: { sealed: string } | { plain: Secret };
  /** What answers and logs show instead of the secret. */
  secretLast4: string;
  updatedAt: Date | null;
}

/** The last 4 characters of a secret, the only part ever shown. */
export function lastFourOf(secret: Secret): string {
  return secret.reveal().slice(-4);
}

export interface ProjectRow {
  id: bigint;
  name: string;
  mode: ProjectMode;
  secret_key: string;
  previous_secret_key: string | null;
  previous_secret_until: Date | null;
  callback_url: string | null;
  hold_expiry_action: 'cancel' | 'capture';
  hold_period_seconds: number;
  paypal_enabled: boolean;
  paypal_client_id: string | null;
  paypal_client_secret: string | null;
  paypal_client_secret_sealed: string | null;
  paypal_client_secret_last4: string | null;
  paypal_credentials_updated_at: Date | null;
  settlement_currency: string | null;
  test_clock_at: Date | null;
}

export function toProject(row: ProjectRow, now: Date): Project {
  const previousValid = row.previous_secret_key && row.previous_secret_until && row.previous_secret_until > now;
  return {
    id: BigInt(row.id),
    name: row.name,
    mode: row.mode,
    secretKey: row.secret_key,
    secretKeys: previousValid ? [row.secret_key, row.previous_secret_key!] : [row.secret_key],
    callbackUrl: row.callback_url,
    holdExpiryAction: row.hold_expiry_action,
    holdPeriodSeconds: row.hold_period_seconds,
    paypalEnabled: row.paypal_enabled,
    paypalCredentials: paypalCredentialsOf(row),
    settlementCurrency: row.settlement_currency?.trim() ?? null,
    testClockAt: row.test_clock_at,
  };
}

function paypalCredentialsOf(row: ProjectRow): StoredPaypalCredentials | null {
  if (!row.paypal_client_id) return null;
  if (row.paypal_client_secret_sealed) {
    return { clientId: row.paypal_client_id, secret: { sealed: row.paypal_client_secret_sealed }, secretLast4: row.paypal_client_secret_last4 ?? '', updatedAt: row.paypal_credentials_updated_at };
  }
  if (!row.paypal_client_secret) return null;
  const plain = new Secret(row.paypal_client_secret);
  return { clientId: row.paypal_client_id, secret: { plain }, secretLast4: lastFourOf(plain), updatedAt: row.paypal_credentials_updated_at };
}

export function generateSecretKey(): string {
  return randomBytes(32).toString('base64url');
}

export interface NewProject {
  name: string;
  mode: ProjectMode;
  callbackUrl?: string | null;
}

export async function createProject(db: Queryable, input: NewProject): Promise<Project> {
  const { rows } = await db.query<ProjectRow>(
    // Test projects have the sandbox at once; production projects get PayPal when onboarding reaches "ready".
    `INSERT INTO projects (name, mode, secret_key, callback_url, paypal_enabled) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [input.name, input.mode, generateSecretKey(), input.callbackUrl ?? null, input.mode === 'test'],
  );
  return toProject(rows[0], new Date());
}

export async function findProject(db: Queryable, projectId: bigint | number, now = new Date()): Promise<Project | undefined> {
  const { rows } = await db.query<ProjectRow>('SELECT * FROM projects WHERE id = $1', [String(projectId)]);
  return rows[0] ? toProject(rows[0], now) : undefined;
}

/**
 * Reads projects for many concurrent requests in one statement: the ids
 * asked for during one turn of the event loop are read together once that
 * turn ends (`turnBatchLoader`). Nothing is kept: every caller gets a row read after it asked, exactly as with
 * `findProject`, so a rotated key or an advanced test clock is seen at
 * once. Under load, 32 Gate requests cost one project read, not 32.
 */
export interface ProjectReader {
  find(projectId: bigint | number, now?: Date): Promise<Project | undefined>;
}

export function createProjectReader(pool: pg.Pool): ProjectReader {
  const loader = turnBatchLoader<string, ProjectRow | undefined>(async (ids) => {
    const { rows } = await pool.query<ProjectRow>('SELECT * FROM projects WHERE id = ANY($1::bigint[])', [ids]);
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    return ids.map((id) => byId.get(id));
  });
  return {
    async find(projectId, now = new Date()) {
      const row = await loader.load(String(projectId));
      return row ? toProject(row, now) : undefined;
    },
  };
}

export async function listProjects(db: Queryable): Promise<Project[]> {
  const { rows } = await db.query<ProjectRow>('SELECT * FROM projects ORDER BY id');
  const now = new Date();
  return rows.map((row) => toProject(row, now));
}

/** Replaces the secret key; the old key keeps verifying for `overlapSeconds`. */
export async function rotateSecretKey(db: Queryable, projectId: bigint, overlapSeconds: number): Promise<Project | undefined> {
  const { rows } = await db.query<ProjectRow>(
    `UPDATE projects SET previous_secret_key = secret_key, previous_secret_until = now() + make_interval(secs => $2),
       secret_key = $3 WHERE id = $1 RETURNING *`,
    [String(projectId), overlapSeconds, generateSecretKey()],
  );
  return rows[0] ? toProject(rows[0], new Date()) : undefined;
}

/** Sets a test project's clock. Production projects refuse (and a CHECK constraint backs that). */
export async function setTestClock(db: Queryable, projectId: bigint, at: Date): Promise<Project | undefined> {
  const { rows } = await db.query<ProjectRow>(`UPDATE projects SET test_clock_at = $2 WHERE id = $1 AND mode = 'test' RETURNING *`, [String(projectId), at]);
  return rows[0] ? toProject(rows[0], new Date()) : undefined;
}

/**
 * The rights on its PayPal account a project's merchant has granted, as long
 * as its onboarding is `ready`: none before, and none once revoked (also if
 * `paypal_enabled` were set some other way).
 */
export async function grantedPaypalPermissions(db: Queryable, projectId: bigint): Promise<PaypalPermission[]> {
  const { rows } = await db.query<{ permissions: PaypalPermission[] }>(`SELECT permissions FROM paypal_onboarding WHERE project_id = $1 AND state = 'ready'`, [
    String(projectId),
  ]);
  return rows[0]?.permissions ?? [];
}

export interface SealedPaypalCredentials {
  clientId: string;
  secretSealed: string;
  secretLast4: string;
}

/**
 * Stores a production project's PayPal credentials, the secret already
 * sealed; the plain-text column of old is cleared in the same statement.
 * Undefined when there is no such production project.
 */
export async function storePaypalCredentials(db: Queryable, projectId: bigint, credentials: SealedPaypalCredentials): Promise<Project | undefined> {
  const { rows } = await db.query<ProjectRow>(
    `UPDATE projects SET paypal_client_id = $2, paypal_client_secret_sealed = $3, paypal_client_secret_last4 = $4, paypal_client_secret = NULL,
            paypal_credentials_updated_at = now()
      WHERE id = $1 AND mode = 'production' RETURNING *`,
    [String(projectId), credentials.clientId, credentials.secretSealed, credentials.secretLast4],
  );
  return rows[0] ? toProject(rows[0], new Date()) : undefined;
}

/**
 * Replaces a stored secret by the same secret sealed anew (a plain-text one
 * of old, or one sealed by a rotated-out key), only if the row still holds
 * what the caller read: a node starting at the same time, or an operator
 * setting new credentials meanwhile, wins. Answers whether it replaced it.
 */
export async function resealPaypalSecret(db: Queryable, projectId: bigint, read: StoredPaypalCredentials['secret'], secretSealed: string, secretLast4: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE projects SET paypal_client_secret_sealed = $2, paypal_client_secret_last4 = $3, paypal_client_secret = NULL
      WHERE id = $1 AND mode = 'production' AND paypal_client_secret IS NOT DISTINCT FROM $4 AND paypal_client_secret_sealed IS NOT DISTINCT FROM $5`,
    [String(projectId), secretSealed, secretLast4, 'plain' in read ? read.plain.reveal() : null, 'sealed' in read ? read.sealed : null],
  );
  return (rowCount ?? 0) > 0;
}

/** Production projects holding PayPal credentials (sealed or, from before encryption at rest, plain). */
export async function projectsWithPaypalCredentials(db: Queryable): Promise<Project[]> {
  const { rows } = await db.query<ProjectRow>(
    `SELECT * FROM projects WHERE mode = 'production' AND paypal_client_id IS NOT NULL AND (paypal_client_secret IS NOT NULL OR paypal_client_secret_sealed IS NOT NULL) ORDER BY id`,
  );
  const now = new Date();
  return rows.map((row) => toProject(row, now));
}
