import { Type } from '@sinclair/typebox';
import { GateError } from '../domain/errors.ts';
import { balanceView, balancesOf } from '../ledger/balances.ts';
import type { PlatformContext } from '../processing/context.ts';
import { queryParameters } from './documentation.ts';
import { parseTime, visibleProjectIds, type RouteDefinition, type SignedCall } from './http.ts';

/** The longest range the daily series answers in one request. */
export const seriesDaysMax = 366;

/**
 * Balances (from the ledger) and the daily series behind the Dashboard's
 * charts: volume (successful sale, capture and COF debit amounts per
 * currency) and approval rate (successful over final sale, auth and COF
 * debit operations).
 */
const tags = ['Dashboard: balances and charts'] as const;

export function insightRoutes(context: PlatformContext): RouteDefinition[] {
  return [
    {
      method: 'GET',
      url: '/balances',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'Balances per project and currency',
      description: 'Sums of the double-entry ledger; minor units as strings.',
      tags,
      documentedQuery: Type.Object({ project_id: queryParameters.project_id, mode: queryParameters.mode }),
      async handle(call: SignedCall) {
        const projectIds = await visibleProjectIds(context, call, call.query.project_id, call.query.mode);
        const balances = await balancesOf(context.pool, projectIds);
        return { balances: balances.map(balanceView) };
      },
    },
    {
      method: 'GET',
      url: '/stats/daily',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'Daily volume and approval rate',
      description: `Per day and currency: \`volume_minor\` (successful sale, capture and COF debit), \`attempts\`, \`approved\`, \`approval_rate\`. Default the last 30 days, at most ${seriesDaysMax}.`,
      tags,
      documentedQuery: Type.Object({ project_id: queryParameters.project_id, mode: queryParameters.mode, from: queryParameters.from, to: queryParameters.to }),
      async handle(call: SignedCall) {
        const projectIds = await visibleProjectIds(context, call, call.query.project_id, call.query.mode);
        const to = parseTime(call.query.to, 'to') ?? new Date(Date.UTC(call.now.getUTCFullYear(), call.now.getUTCMonth(), call.now.getUTCDate() + 1));
        const from = parseTime(call.query.from, 'from') ?? new Date(to.getTime() - 30 * 86_400_000);
        if (to <= from || to.getTime() - from.getTime() > seriesDaysMax * 86_400_000) {
          throw new GateError('invalidFieldFormat', `from must be before to, at most ${seriesDaysMax} days apart`);
        }
        const { rows } = await context.pool.query(
          `SELECT to_char(date_trunc('day', o.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, o.currency,
                  COALESCE(sum(o.amount_minor) FILTER (WHERE o.status = 'success' AND o.type IN ('sale', 'capture', 'recurring')), 0)::text AS volume_minor,
                  count(*) FILTER (WHERE o.status = 'success' AND o.type IN ('sale', 'capture', 'recurring'))::int AS successful_operations,
                  count(*) FILTER (WHERE o.type IN ('sale', 'auth', 'recurring') AND o.status IN ('success', 'decline', 'error', 'expired'))::int AS attempts,
                  count(*) FILTER (WHERE o.type IN ('sale', 'auth', 'recurring') AND o.status = 'success')::int AS approved
             FROM operations o
            WHERE o.project_id = ANY($1::bigint[]) AND o.created_at >= $2 AND o.created_at < $3 AND o.currency <> ''
            GROUP BY 1, 2 ORDER BY 1, 2`,
          [projectIds.map(String), from, to],
        );
        return {
          from: from.toISOString(),
          to: to.toISOString(),
          days: rows.map((row) => ({
            ...row,
            currency: row.currency.trim(),
            approval_rate: row.attempts === 0 ? null : (Math.round((row.approved / row.attempts) * 10_000) / 10_000).toFixed(4),
          })),
        };
      },
    },
  ];
}
