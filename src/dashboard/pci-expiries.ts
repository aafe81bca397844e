import { Type } from '@sinclair/typebox';
import { daysBetween, pciSummary, type PciDocumentKind, type PciStatus } from '../accounts/compliance.ts';
import { countOperationsLastYearOf, listPciDocumentsOf } from '../accounts/pci-documents.ts';
import { listMerchants } from '../accounts/merchants.ts';
import { GateError } from '../domain/errors.ts';
import { latestRemindersOfMany } from '../notifications/store.ts';
import type { PlatformContext } from '../processing/context.ts';
import type { RouteDefinition, SignedCall } from './http.ts';

/**
 * The operator's view of what needs chasing: every merchant's required PCI
 * DSS document that is missing, expired or expires within `within_days`
 * (default 60), the most urgent first, with the last reminder the merchant
 * was sent about it. Same rules and clock as the merchants' own status.
 */
const withinDaysDefault = 60;
const withinDaysMax = 366;

interface ExpiryRow {
  merchant_id: number;
  merchant_name: string;
  kind: PciDocumentKind;
  status: PciStatus;
  valid_until: string | null;
  days_left: number | null;
  last_reminder: { title: string; created_at: string } | null;
}

export function pciExpiryRoutes(context: PlatformContext): RouteDefinition[] {
  return [
    {
      method: 'GET',
      url: '/operator/pci-expiries',
      access: ['operator'],
      summary: 'PCI DSS documents to chase: missing, expired or expiring soon, with the last reminder sent',
      documentedQuery: Type.Object({
        within_days: Type.Optional(Type.Integer({ minimum: 0, maximum: withinDaysMax, default: withinDaysDefault, description: `Expiring within this many days (0-${withinDaysMax}).` })),
      }),
      tags: ['Dashboard: operator'],
      async handle(call: SignedCall) {
        const withinDays = parseWithinDays(call.query.within_days);
        const today = call.now.toISOString().slice(0, 10);
        const rows: ExpiryRow[] = [];
        // Three statements for all merchants, whatever their number.
        const merchants = await listMerchants(context.pool);
        const ids = merchants.map((merchant) => merchant.id);
        const [operationCounts, documents, reminders] = [
          await countOperationsLastYearOf(context.pool, ids, call.now),
          await listPciDocumentsOf(context.pool, ids),
          await latestRemindersOfMany(context.pool, ids),
        ];
        for (const merchant of merchants) {
          const key = String(merchant.id);
          const summary = pciSummary(operationCounts.get(key) ?? 0, documents.get(key) ?? [], today);
          for (const entry of summary.required) {
            const daysLeft = entry.validUntil === null ? null : daysBetween(today, entry.validUntil);
            if (daysLeft !== null && daysLeft > withinDays) continue;
            const reminder = reminders.get(key)?.get(entry.kind);
            rows.push({
              merchant_id: Number(merchant.id),
              merchant_name: merchant.name,
              kind: entry.kind,
              status: entry.status,
              valid_until: entry.validUntil,
              days_left: daysLeft,
              last_reminder: reminder ? { title: reminder.title, created_at: reminder.createdAt.toISOString() } : null,
            });
          }
        }
        // Missing first, then by days left (expired ones are negative).
        rows.sort((a, b) => (a.days_left ?? Number.NEGATIVE_INFINITY) - (b.days_left ?? Number.NEGATIVE_INFINITY) || a.merchant_id - b.merchant_id);
        return { within_days: withinDays, expiries: rows };
      },
    },
  ];
}

function parseWithinDays(value: string | undefined): number {
  if (value === undefined || value === '') return withinDaysDefault;
  if (!/^\d{1,3}$/.test(value) || Number(value) > withinDaysMax) throw new GateError('invalidFieldFormat', `within_days must be 0-${withinDaysMax}`);
  return Number(value);
}
