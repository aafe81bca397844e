import type { Queryable } from '../store/db.ts';
import { ledgerAccounts, type LedgerAccount } from './rules.ts';

/**
 * Balances are derived from ledger entries (sums), never stored: one row per
 * project and currency with every account's position (credits minus debits),
 * as decimal strings of minor units so no precision is lost in JSON.
 */
export interface ProjectBalance {
  projectId: bigint;
  currency: string;
  /** What the merchant holds: purchases and captures in, refunds, payouts, chargebacks and fees out. */
  merchantBalanceMinor: bigint;
  accounts: Record<LedgerAccount, bigint>;
}

export async function balancesOf(db: Queryable, projectIds: readonly bigint[]): Promise<ProjectBalance[]> {
  if (projectIds.length === 0) return [];
  const { rows } = await db.query<{ project_id: string; currency: string; account: LedgerAccount; position: string }>(
    `SELECT project_id::text AS project_id, currency, account,
            sum(CASE side WHEN 'credit' THEN amount_minor ELSE -amount_minor END)::text AS position
       FROM ledger_entries WHERE project_id = ANY($1::bigint[])
      GROUP BY project_id, currency, account ORDER BY project_id, currency`,
    [projectIds.map(String)],
  );
  const byKey = new Map<string, ProjectBalance>();
  for (const row of rows) {
    const currency = row.currency.trim();
    const key = `${row.project_id}/${currency}`;
    let balance = byKey.get(key);
    if (!balance) {
      const accounts = Object.fromEntries(ledgerAccounts.map((account) => [account, 0n])) as Record<LedgerAccount, bigint>;
      balance = { projectId: BigInt(row.project_id), currency, merchantBalanceMinor: 0n, accounts };
      byKey.set(key, balance);
    }
    balance.accounts[row.account] = BigInt(row.position);
    if (row.account === 'merchant_balance') balance.merchantBalanceMinor = BigInt(row.position);
  }
  return [...byKey.values()];
}

/** JSON view (minor units as strings, the way every amount leaves the Dashboard and Data APIs). */
export function balanceView(balance: ProjectBalance) {
  return {
    project_id: Number(balance.projectId),
    currency: balance.currency,
    balance_minor: balance.merchantBalanceMinor.toString(),
    accounts: Object.fromEntries(Object.entries(balance.accounts).map(([account, value]) => [account, value.toString()])),
  };
}
