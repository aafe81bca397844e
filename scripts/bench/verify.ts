import type pg from 'pg';
import type { MerchantCounts } from './merchant.ts';

/**
 * The end-of-run audit: nothing lost, nothing duplicated. The database says
 * what the platform did; the merchant's counts say what arrived. Every
 * accepted payment must be final, with exactly one final callback row,
 * delivered, and exactly one final callback received.
 *
 * Two kinds of finding: a violation (a duplicate, a count that does not
 * match, a bad signature) is wrong however long one waits; an unfinished
 * payment or callback may only be slow, and is a loss only once the run's
 * bounds have been generous (the full run). `--quick` reports unfinished
 * work without failing, because CI does not assert speed.
 */
export interface Audit {
  paymentsInDatabase: number;
  acceptedByMerchant: number;
  successful: number;
  notFinal: number;
  withoutFinalCallbackRow: number;
  withSeveralFinalCallbackRows: number;
  callbacksNotDelivered: number;
  failedAttempts: number;
  merchant: MerchantCounts;
  burstRows: number;
  burstDelivered: number;
  violations: string[];
  unfinished: string[];
}

const finalPaymentStatuses = ['success', 'decline', 'canceled', 'refunded', 'partially refunded', 'error'];

export async function audit(pool: pg.Pool, flowProjectId: bigint, burstProjectId: bigint, merchant: MerchantCounts, burstExpected: number): Promise<Audit> {
  const one = async (sql: string, values: unknown[]) => Number((await pool.query<{ n: string }>(sql, values)).rows[0].n);
  const project = [String(flowProjectId)];
  const paymentsInDatabase = await one('SELECT count(*)::text AS n FROM payments WHERE project_id = $1', project);
  const successful = await one(`SELECT count(*)::text AS n FROM payments WHERE project_id = $1 AND status = 'success'`, project);
  const notFinal = await one('SELECT count(*)::text AS n FROM payments WHERE project_id = $1 AND NOT (status = ANY($2))', [...project, finalPaymentStatuses]);
  const finalCallbackRows = (comparison: string) =>
    one(
      `SELECT count(*)::text AS n FROM payments p
        WHERE p.project_id = $1 AND (SELECT count(*) FROM callbacks c WHERE c.payment_ref = p.id AND c.kind = 'final') ${comparison}`,
      project,
    );
  const withoutFinalCallbackRow = await finalCallbackRows('= 0');
  const withSeveralFinalCallbackRows = await finalCallbackRows('> 1');
  const callbacksNotDelivered = await one(`SELECT count(*)::text AS n FROM callbacks WHERE project_id = $1 AND status <> 'delivered'`, project);
  const failedAttempts = await one(
    `SELECT count(*)::text AS n FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id
      WHERE c.project_id = ANY($1) AND a.http_status IS DISTINCT FROM 200`,
    [[String(flowProjectId), String(burstProjectId)]],
  );
  const burstOnly = `project_id = $1 AND (body::jsonb -> 'payment' ->> 'id') LIKE 'burst-callback-%'`;
  const burstRows = await one(`SELECT count(*)::text AS n FROM callbacks WHERE ${burstOnly}`, [String(burstProjectId)]);
  const burstDelivered = await one(`SELECT count(*)::text AS n FROM callbacks WHERE ${burstOnly} AND status = 'delivered'`, [String(burstProjectId)]);

  const violations: string[] = [];
  const unfinished: string[] = [];
  const violation = (ok: boolean, message: string) => {
    if (!ok) violations.push(message);
  };
  const finished = (ok: boolean, message: string) => {
    if (!ok) unfinished.push(message);
  };
  // The burst project's own source payment is tracked by the merchant too.
  const burstSourcePayments = 1;
  violation(paymentsInDatabase + burstSourcePayments === merchant.accepted, `${merchant.accepted} sales accepted but ${paymentsInDatabase} (+1 burst source) payments in the database`);
  violation(withSeveralFinalCallbackRows === 0, `${withSeveralFinalCallbackRows} payments with more than one final callback row`);
  violation(merchant.duplicateFinals === 0, `${merchant.duplicateFinals} duplicate final callbacks received`);
  violation(merchant.duplicateIntermediates === 0, `${merchant.duplicateIntermediates} duplicate intermediate callbacks received`);
  violation(merchant.unknownCallbacks === 0, `${merchant.unknownCallbacks} callbacks about unknown payments`);
  violation(merchant.badSignatures === 0, `${merchant.badSignatures} callbacks with a bad signature`);
  violation(merchant.approvalFailures === 0, `${merchant.approvalFailures} failed customer approvals`);
  violation(burstRows === burstExpected, `burst: ${burstRows} callback rows, expected ${burstExpected}`);
  violation(merchant.burstDuplicates === 0, `burst: ${merchant.burstDuplicates} duplicates received`);
  finished(notFinal === 0, `${notFinal} payments not in a final status`);
  finished(withoutFinalCallbackRow === 0, `${withoutFinalCallbackRow} payments without a final callback row`);
  finished(callbacksNotDelivered === 0, `${callbacksNotDelivered} callbacks not delivered`);
  finished(merchant.finished === merchant.accepted, `${merchant.accepted - merchant.finished} accepted payments without a final callback at the merchant`);
  finished(burstDelivered === burstRows, `burst: ${burstRows - burstDelivered} callbacks not delivered`);
  finished(merchant.burstReceived === burstExpected, `burst: ${merchant.burstReceived} of ${burstExpected} received`);
  return {
    paymentsInDatabase,
    acceptedByMerchant: merchant.accepted,
    successful,
    notFinal,
    withoutFinalCallbackRow,
    withSeveralFinalCallbackRows,
    callbacksNotDelivered,
    failedAttempts,
    merchant,
    burstRows,
    burstDelivered,
    violations,
    unfinished,
  };
}
