import type { Queryable } from '../store/db.ts';
import { createProject, findProject, type Project, type ProjectMode } from '../store/projects.ts';

/** Merchants own projects. Projects made before merchants existed (CLI, demo) have no merchant. */
export interface Merchant {
  id: bigint;
  name: string;
  createdAt: Date;
}

export function merchantView(merchant: Merchant) {
  return { id: Number(merchant.id), name: merchant.name, created_at: merchant.createdAt.toISOString() };
}

type MerchantRow = { id: bigint | string; name: string; created_at: Date };
const toMerchant = (row: MerchantRow): Merchant => ({ id: BigInt(row.id), name: row.name, createdAt: row.created_at });

export async function createMerchant(db: Queryable, name: string): Promise<Merchant> {
  const { rows } = await db.query<MerchantRow>('INSERT INTO merchants (name) VALUES ($1) RETURNING *', [name]);
  return toMerchant(rows[0]);
}

export async function findMerchant(db: Queryable, id: bigint): Promise<Merchant | undefined> {
  const { rows } = await db.query<MerchantRow>('SELECT * FROM merchants WHERE id = $1', [String(id)]);
  return rows[0] ? toMerchant(rows[0]) : undefined;
}

export async function listMerchants(db: Queryable): Promise<Merchant[]> {
  const { rows } = await db.query<MerchantRow>('SELECT * FROM merchants ORDER BY id');
  return rows.map(toMerchant);
}

/** The merchant's project ids, in order. */
export async function projectIdsOfMerchant(db: Queryable, merchantId: bigint): Promise<bigint[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id::text AS id FROM projects WHERE merchant_id = $1 ORDER BY projects.id', [String(merchantId)]);
  return rows.map((row) => BigInt(row.id));
}

/** The project when it belongs to `merchantId`; undefined otherwise (callers answer 404 either way). */
export async function findMerchantProject(db: Queryable, merchantId: bigint, projectId: bigint, now: Date): Promise<Project | undefined> {
  const { rows } = await db.query('SELECT 1 FROM projects WHERE id = $1 AND merchant_id = $2', [String(projectId), String(merchantId)]);
  return rows[0] ? findProject(db, projectId, now) : undefined;
}

export async function merchantOfProject(db: Queryable, projectId: bigint): Promise<bigint | null | undefined> {
  const { rows } = await db.query<{ merchant_id: string | null }>('SELECT merchant_id::text AS merchant_id FROM projects WHERE id = $1', [String(projectId)]);
  if (!rows[0]) return undefined;
  return rows[0].merchant_id === null ? null : BigInt(rows[0].merchant_id);
}

/** Creates a project owned by a merchant (operators: production, test, extra test projects). */
export async function createMerchantProject(
  db: Queryable,
  merchantId: bigint,
  input: { name: string; mode: ProjectMode; callbackUrl: string | null },
): Promise<Project> {
  const project = await createProject(db, input);
  await db.query('UPDATE projects SET merchant_id = $2 WHERE id = $1', [String(project.id), String(merchantId)]);
  return project;
}
