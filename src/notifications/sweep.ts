import { requiredPciDocuments } from '../accounts/compliance.ts';
import { countOperationsLastYear, listPciDocuments } from '../accounts/pci-documents.ts';
import type { PlatformContext } from '../processing/context.ts';
import { withTransaction } from '../store/db.ts';
import { emailEnabled, enqueueEmails } from './email.ts';
import { dueReminder, type PlannedNotification } from './pci-reminders.ts';
import { createEmailCopies, insertNotification } from './store.ts';

/**
 * The reminder sweep, run by each node's scheduler (src/scheduler/runner.ts)
 * every `REMINDER_SWEEP_INTERVAL_MS`. It looks at every merchant's required
 * PCI DSS documents and makes the reminders that fell due
 * (src/notifications/pci-reminders.ts), with their e-mail copies and jobs, in
 * one transaction per merchant. A sweep rather than `scheduled_tasks` rows:
 * those belong to a project and run on its clock, while these obligations
 * belong to a merchant, and what is due changes without any event to plan
 * from (the volume crosses the AOC threshold, a quarter begins). Running it on
 * several nodes at once, or twice, makes nothing twice: the unique
 * constraints on `notifications` decide.
 *
 * Clock: the platform clock (`context.now()`), which the Dashboard's PCI
 * status reads too. Never a project's test clock: a merchant's documents are
 * real-world obligations shared by all its projects, and advancing a test
 * project's clock must not expire them.
 */
const merchantsPerBatch = 200;
/** Bound on one sweep: 2,000 batches of 200 merchants. */
const batchesMax = 2_000;

/** Makes the reminders due at `now`; returns how many it made. */
export async function sweepPciReminders(context: PlatformContext, now: Date = context.now()): Promise<number> {
  let made = 0;
  let afterId = 0n;
  for (let batch = 0; batch < batchesMax; batch += 1) {
    const merchantIds = await nextMerchants(context, afterId);
    if (merchantIds.length === 0) break;
    for (const merchantId of merchantIds) {
      // One merchant's failure (a bad row) must not hold back every other merchant's reminders.
      made += await remindMerchant(context, merchantId, now).catch((error) => {
        context.log.error({ merchantId: String(merchantId), err: error }, 'PCI reminder sweep failed for a merchant');
        return 0;
      });
    }
    afterId = merchantIds[merchantIds.length - 1];
  }
  return made;
}

async function nextMerchants(context: PlatformContext, afterId: bigint): Promise<bigint[]> {
  const { rows } = await context.pool.query<{ id: string }>('SELECT id::text AS id FROM merchants WHERE id > $1 ORDER BY merchants.id LIMIT $2', [
    String(afterId),
    merchantsPerBatch,
  ]);
  return rows.map((row) => BigInt(row.id));
}

/** The reminders due today for one merchant, one per required kind at most. */
export async function dueRemindersOf(context: PlatformContext, merchantId: bigint, now: Date): Promise<PlannedNotification[]> {
  const today = now.toISOString().slice(0, 10);
  const required = requiredPciDocuments(await countOperationsLastYear(context.pool, merchantId, now));
  const documents = await listPciDocuments(context.pool, merchantId);
  const planned: PlannedNotification[] = [];
  for (const kind of required) {
    // listPciDocuments orders each kind's latest validity first.
    const latest = documents.find((document) => document.kind === kind);
    const reminder = dueReminder({ kind, latest: latest ? { id: latest.id, validUntil: latest.validUntil } : null }, today);
    if (reminder) planned.push(reminder);
  }
  return planned;
}

async function remindMerchant(context: PlatformContext, merchantId: bigint, now: Date): Promise<number> {
  const planned = await dueRemindersOf(context, merchantId, now);
  if (planned.length === 0) return 0;
  return withTransaction(context.pool, async (tx) => {
    let made = 0;
    for (const reminder of planned) {
      const notificationId = await insertNotification(tx, merchantId, reminder, now);
      if (notificationId === undefined) continue;
      made += 1;
      if (emailEnabled(context.config)) await enqueueEmails(context, tx, await createEmailCopies(tx, notificationId, merchantId));
    }
    return made;
  });
}
