import type pg from 'pg';
import { StatementParameters, type GuardedPart, type OperationRecord } from '../store/payments.ts';
import { principalRoute, transfersFor, type FeeRule, type Transfer } from './rules.ts';

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
  const posting = ledgerPosting(operation, fee);
  if (!posting) return;
  const parameters = new StatementParameters();
  // The transaction row and its entries in one statement (one round trip): the entries take the new row's id.
  const [booked, entries] = postingStatements(posting, parameters, 'true');
  await tx.query(`WITH ${booked} ${entries}`, parameters.values);
}

/**
 * The same posting as parts of a guarded one-statement write
 * (`updateIfUnchanged`): booked only if the guard passed.
 */
export function ledgerPart(operation: OperationRecord, fee: FeeRule | undefined): GuardedPart | undefined {
  const posting = ledgerPosting(operation, fee);
  if (!posting) return undefined;
  return (parameters) => {
    const [booked, entries] = postingStatements(posting, parameters, 'EXISTS (SELECT 1 FROM guard)');
    return [booked, `ledger_entries AS (${entries})`];
  };
}

interface Posting {
  operation: OperationRecord;
  transfers: Transfer[];
}

/** What a final operation books, if anything: declined operations and types that move no money book nothing. */
function ledgerPosting(operation: OperationRecord, fee: FeeRule | undefined): Posting | undefined {
  if (operation.status !== 'success' || !principalRoute(operation.type) || operation.amountMinor <= 0n) return undefined;
  return { operation, transfers: transfersFor(operation.type, operation.amountMinor, operation.currency, fee) };
}

/** `ledger_booked AS (INSERT the transaction row if <condition>)` and the INSERT of its entries (reading ledger_booked). */
function postingStatements({ operation, transfers }: Posting, parameters: StatementParameters, condition: string): [string, string] {
  const booked = `ledger_booked AS (
       INSERT INTO ledger_transactions (project_id, payment_ref, operation_id, operation_type, booked_at)
       SELECT ${parameters.add(operation.projectId)}::bigint, ${parameters.add(operation.paymentRef)}::bigint, ${parameters.add(operation.id)}::bigint,
              ${parameters.add(operation.type)}::text, ${parameters.add(operation.completedAt ?? operation.createdAt)}::timestamptz
        WHERE ${condition}
       RETURNING id, project_id)`;
  const tuples: string[] = [];
  for (const transfer of transfers) {
    for (const [account, side] of [[transfer.from, 'debit'], [transfer.to, 'credit']] as const) {
      tuples.push(`(${parameters.add(account)}::text, ${parameters.add(transfer.currency)}::text, ${parameters.add(side)}::text, ${parameters.add(transfer.amountMinor)}::bigint)`);
    }
  }
  const entries = `INSERT INTO ledger_entries (transaction_id, project_id, account, currency, side, amount_minor)
     SELECT ledger_booked.id, ledger_booked.project_id, entry.account, entry.currency, entry.side, entry.amount_minor
       FROM ledger_booked, (VALUES ${tuples.join(', ')}) AS entry (account, currency, side, amount_minor)`;
  return [booked, entries];
}
