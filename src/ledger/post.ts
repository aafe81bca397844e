import type pg from 'pg';
import type { OperationRecord } from '../store/payments.ts';
import { principalRoute, transfersFor, type FeeRule } from './rules.ts';

/**
 * Posts a final operation to the ledger, in the caller's transaction: the one
 * in which the operation becomes final (`recordFinal`), so an operation is
 * final if and only if its entries exist. Declined operations and types that
 * move no money post nothing. `UNIQUE (operation_id)` makes a second posting
 * of one operation fail the transaction rather than count money twice.
 * `fee` is the project's fee rule for the operation's type, read in the same
 * transaction with the operation's lock (`lockOperationWithPayment`).
 *
 * @example
 * await postOperationToLedger(tx, finalOperation, locked.fee); // after updateOperation(..., { status: 'success' })
 */
export async function postOperationToLedger(tx: pg.PoolClient, operation: OperationRecord, fee: FeeRule | undefined): Promise<void> {
  if (operation.status !== 'success' || !principalRoute(operation.type) || operation.amountMinor <= 0n) return;
  const transfers = transfersFor(operation.type, operation.amountMinor, operation.currency, fee);
  // The transaction row and its entries in one statement (one round trip): the entries take the new row's id.
  const values: unknown[] = [String(operation.projectId), String(operation.paymentRef), String(operation.id), operation.type, operation.completedAt ?? operation.createdAt];
  const tuples: string[] = [];
  for (const transfer of transfers) {
    for (const [account, side] of [[transfer.from, 'debit'], [transfer.to, 'credit']] as const) {
      const base = values.length;
      values.push(account, transfer.currency, side, String(transfer.amountMinor));
      tuples.push(`($${base + 1}::text, $${base + 2}::text, $${base + 3}::text, $${base + 4}::bigint)`);
    }
  }
  await tx.query(
    `WITH booked AS (
       INSERT INTO ledger_transactions (project_id, payment_ref, operation_id, operation_type, booked_at)
       VALUES ($1, $2, $3, $4, $5) RETURNING id, project_id)
     INSERT INTO ledger_entries (transaction_id, project_id, account, currency, side, amount_minor)
     SELECT booked.id, booked.project_id, entry.account, entry.currency, entry.side, entry.amount_minor
       FROM booked, (VALUES ${tuples.join(', ')}) AS entry (account, currency, side, amount_minor)`,
    values,
  );
}
