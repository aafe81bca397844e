import type { Queryable } from '../store/db.ts';

/**
 * Proves the ledger's invariants from the database, without trusting the
 * code that wrote it:
 * - debits equal credits overall, per currency;
 * - debits equal credits within every ledger transaction, per currency;
 * - no payment's refunds plus chargebacks exceed its captures;
 * - the ledger agrees with each payment's captured, refunded and charged-back
 *   amounts (the payments table is the state machine's view of the same money).
 * Each list is capped at `examplesMax` examples; `ok` is false when any is non-empty.
 */
export interface LedgerCheck {
  ok: boolean;
  entries: number;
  transactions: number;
  unbalancedCurrencies: { currency: string; debitsMinor: string; creditsMinor: string }[];
  unbalancedTransactions: { transactionId: string; currency: string }[];
  overRefundedPayments: { paymentRef: string; capturedMinor: string; refundedMinor: string; chargedBackMinor: string }[];
  paymentMismatches: { paymentRef: string; column: string; paymentMinor: string; ledgerMinor: string }[];
}

const examplesMax = 100;

export async function checkLedger(db: Queryable, options: { projectId?: bigint } = {}): Promise<LedgerCheck> {
  const projectId = options.projectId === undefined ? null : String(options.projectId);
  const totals = await db.query<{ currency: string; debits: string; credits: string; entries: string }>(
    `SELECT currency, sum(amount_minor) FILTER (WHERE side = 'debit')::text AS debits,
            sum(amount_minor) FILTER (WHERE side = 'credit')::text AS credits, count(*)::text AS entries
       FROM ledger_entries WHERE ($1::bigint IS NULL OR project_id = $1) GROUP BY currency`,
    [projectId],
  );
  const unbalancedCurrencies = totals.rows
    .filter((row) => (row.debits ?? '0') !== (row.credits ?? '0'))
    .map((row) => ({ currency: row.currency.trim(), debitsMinor: row.debits ?? '0', creditsMinor: row.credits ?? '0' }));
  const transactions = await db.query<{ count: string }>(
    'SELECT count(*)::text AS count FROM ledger_transactions WHERE ($1::bigint IS NULL OR project_id = $1)',
    [projectId],
  );
  const unbalanced = await db.query<{ transaction_id: string; currency: string }>(
    `SELECT transaction_id::text AS transaction_id, currency FROM ledger_entries
      WHERE ($1::bigint IS NULL OR project_id = $1)
      GROUP BY transaction_id, currency
     HAVING sum(CASE side WHEN 'debit' THEN amount_minor ELSE -amount_minor END) <> 0
      LIMIT ${examplesMax}`,
    [projectId],
  );
  const perPayment = `
    WITH ledger AS (
      SELECT t.payment_ref,
             COALESCE(sum(e.amount_minor) FILTER (WHERE e.account = 'customer_funds' AND e.side = 'debit'), 0) AS captured,
             COALESCE(sum(e.amount_minor) FILTER (WHERE e.account = 'customer_funds' AND e.side = 'credit'), 0) AS refunded,
             COALESCE(sum(e.amount_minor) FILTER (WHERE e.account = 'chargebacks' AND e.side = 'credit'), 0) AS charged_back
        FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
       WHERE ($1::bigint IS NULL OR t.project_id = $1)
       GROUP BY t.payment_ref)`;
  const overRefunded = await db.query<{ payment_ref: string; captured: string; refunded: string; charged_back: string }>(
    `${perPayment}
     SELECT payment_ref::text AS payment_ref, captured::text AS captured, refunded::text AS refunded, charged_back::text AS charged_back
       FROM ledger WHERE refunded + charged_back > captured LIMIT ${examplesMax}`,
    [projectId],
  );
  const mismatches = await db.query<{ payment_ref: string; column_name: string; payment_minor: string; ledger_minor: string }>(
    `${perPayment}
     SELECT p.id::text AS payment_ref, c.column_name, c.payment_minor::text AS payment_minor, c.ledger_minor::text AS ledger_minor
       FROM payments p LEFT JOIN ledger l ON l.payment_ref = p.id
      CROSS JOIN LATERAL (VALUES
        ('captured_minor', p.captured_minor, COALESCE(l.captured, 0)),
        ('refunded_minor', p.refunded_minor, COALESCE(l.refunded, 0)),
        ('chargeback_minor', p.chargeback_minor, COALESCE(l.charged_back, 0))
      ) AS c (column_name, payment_minor, ledger_minor)
      WHERE ($1::bigint IS NULL OR p.project_id = $1) AND p.type <> 'payout' AND c.payment_minor <> c.ledger_minor
      LIMIT ${examplesMax}`,
    [projectId],
  );
  const result: LedgerCheck = {
    ok: false,
    entries: totals.rows.reduce((sum, row) => sum + Number(row.entries), 0),
    transactions: Number(transactions.rows[0].count),
    unbalancedCurrencies,
    unbalancedTransactions: unbalanced.rows.map((row) => ({ transactionId: row.transaction_id, currency: row.currency.trim() })),
    overRefundedPayments: overRefunded.rows.map((row) => ({
      paymentRef: row.payment_ref,
      capturedMinor: row.captured,
      refundedMinor: row.refunded,
      chargedBackMinor: row.charged_back,
    })),
    paymentMismatches: mismatches.rows.map((row) => ({
      paymentRef: row.payment_ref,
      column: row.column_name,
      paymentMinor: row.payment_minor,
      ledgerMinor: row.ledger_minor,
    })),
  };
  result.ok =
    result.unbalancedCurrencies.length === 0 &&
    result.unbalancedTransactions.length === 0 &&
    result.overRefundedPayments.length === 0 &&
    result.paymentMismatches.length === 0;
  return result;
}
