import type { OperationType } from '../domain/statuses.ts';

/**
 * Which ledger transfers a successful operation makes: pure rules, no SQL.
 *
 * A transfer moves `amountMinor` from one account to another; in the ledger
 * it is a debit entry on `from` and a credit entry on `to`, so every
 * transaction balances by construction. An account's position is its credits
 * minus its debits: `merchant_balance` is what the merchant holds,
 * `customer_funds` goes negative by what customers paid in (net of refunds),
 * `payouts_out`, `chargebacks` and `fees` grow by what left through them.
 */
export const ledgerAccounts = ['customer_funds', 'merchant_balance', 'payouts_out', 'chargebacks', 'fees'] as const;
export type LedgerAccount = (typeof ledgerAccounts)[number];

export interface Transfer {
  from: LedgerAccount;
  to: LedgerAccount;
  amountMinor: bigint;
  currency: string;
}

/** A project's fee for one operation type: basis points of the amount (rounded down) plus a fixed amount. */
export interface FeeRule {
  percentBasisPoints: number;
  fixedMinor: bigint;
}

/** Operation types whose success moves money (and so may carry a fee). */
export type MoneyMovingOperation = Extract<OperationType, 'sale' | 'capture' | 'recurring' | 'refund' | 'payout' | 'chargeback'>;

/** The operation types a project fee can be set for (`project_fees.operation_type`), in the order people read them. */
export const feeOperationTypes = ['sale', 'capture', 'recurring', 'refund', 'payout', 'chargeback'] as const satisfies readonly MoneyMovingOperation[];

/** The principal transfer of an operation type, or undefined for types that move no money (auth, cancel, recurring_cancel). */
export function principalRoute(type: OperationType): { from: LedgerAccount; to: LedgerAccount } | undefined {
  switch (type) {
    case 'sale':
    case 'capture':
    case 'recurring':
      return { from: 'customer_funds', to: 'merchant_balance' };
    case 'refund':
      return { from: 'merchant_balance', to: 'customer_funds' };
    case 'payout':
      return { from: 'merchant_balance', to: 'payouts_out' };
    case 'chargeback':
      return { from: 'merchant_balance', to: 'chargebacks' };
    case 'auth':
    case 'cancel':
    case 'recurring_cancel':
      return undefined;
    default:
      return type satisfies never;
  }
}

export function feeMinor(amountMinor: bigint, rule: FeeRule | undefined): bigint {
  if (!rule) return 0n;
  return (amountMinor * BigInt(rule.percentBasisPoints)) / 10_000n + rule.fixedMinor;
}

/**
 * The transfers for one successful operation of `amountMinor` in `currency`.
 *
 * @example
 * transfersFor('sale', 1000n, 'USD', { percentBasisPoints: 290, fixedMinor: 30n })
 * // [{ from: 'customer_funds', to: 'merchant_balance', amountMinor: 1000n, currency: 'USD' },
 * //  { from: 'merchant_balance', to: 'fees', amountMinor: 59n, currency: 'USD' }]
 */
export function transfersFor(type: OperationType, amountMinor: bigint, currency: string, fee?: FeeRule): Transfer[] {
  const route = principalRoute(type);
  if (!route || amountMinor <= 0n) return [];
  const transfers: Transfer[] = [{ ...route, amountMinor, currency }];
  const feeAmountMinor = feeMinor(amountMinor, fee);
  if (feeAmountMinor > 0n) transfers.push({ from: 'merchant_balance', to: 'fees', amountMinor: feeAmountMinor, currency });
  return transfers;
}
