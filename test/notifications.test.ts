import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMerchant } from '../src/accounts/merchants.ts';
import { createUser } from '../src/accounts/users.ts';
import { DashboardClient } from '../src/dashboard/client.ts';
import { Secret } from '../src/domain/secret.ts';
import { calendarQuarterOf, dueReminder, reminderOffsetFor } from '../src/notifications/pci-reminders.ts';
import { sweepPciReminders } from '../src/notifications/sweep.ts';
import type { PlatformContext } from '../src/processing/context.ts';
import { startScheduler } from '../src/scheduler/runner.ts';
import { createPool } from '../src/store/db.ts';
import { stopTestServer } from './support/database.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';
import { startSmtpReceiver, type SmtpReceiver } from './support/smtp.ts';

/**
 * PCI DSS reminders end to end: a real PostgreSQL, the platform's HTTP API, a
 * real SMTP server receiving the merchant admins' e-mails. Time moves by the
 * sweep's injectable `now` (the platform clock), as the scheduler tests do.
 */
const password = 'correct horse battery staple';
const dayMs = 86_400_000;
const isoDay = (date: Date) => date.toISOString().slice(0, 10);

describe('reminder rules (pure)', () => {
  test('offsets 30, 14, 7, 1 days: the most urgent one reached, none beyond 30 days or after expiry', () => {
    const cases: [number, number | undefined][] = [[31, undefined], [30, 30], [15, 30], [14, 14], [8, 14], [7, 7], [2, 7], [1, 1], [0, 1], [-1, undefined]];
    for (const [daysLeft, offset] of cases) assert.equal(reminderOffsetFor(daysLeft), offset, `${daysLeft} days left`);
  });

  test('expired the day after valid_until; missing once per calendar quarter', () => {
    const latest = { id: 9n, validUntil: '2026-06-30' };
    assert.equal(dueReminder({ kind: 'asv_scan', latest }, '2026-06-30')?.dedupeKey, 'pci:9:1');
    const expired = dueReminder({ kind: 'asv_scan', latest }, '2026-07-01');
    assert.equal(expired?.kind, 'pci_document_expired');
    assert.equal(expired?.title, 'ASV scan report has expired');
    assert.equal(calendarQuarterOf('2026-03-31'), '2026Q1');
    assert.equal(calendarQuarterOf('2026-04-01'), '2026Q2');
    assert.equal(dueReminder({ kind: 'saq', latest: null }, '2026-11-15')?.dedupeKey, 'pci:missing:saq:2026Q4');
  });
});

describe('PCI DSS reminders', () => {
  let gh: TestPlatform;
  let smtp: SmtpReceiver;
  let context: PlatformContext;
  // The platform clock, frozen mid-quarter (2030 Q2) so that moving a few weeks on never crosses into another quarter.
  const today = new Date('2030-05-10T09:00:00Z');
  const merchants = {} as { a: bigint; b: bigint };
  const clients = {} as { adminA: DashboardClient; viewerA: DashboardClient; adminB: DashboardClient };

  const notificationsOf = async (merchantId: bigint) =>
    (
      await context.pool.query<{ id: string; kind: string; document_kind: string; offset_days: number | null; title: string }>(
        'SELECT id::text AS id, kind, document_kind, offset_days, title FROM notifications n WHERE merchant_id = $1 ORDER BY n.id',
        [String(merchantId)],
      )
    ).rows;
  const emailsTo = (address: string) => smtp.emails.filter((email) => email.to.includes(address));
  const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  };

  before(async () => {
    smtp = await startSmtpReceiver();
    // The node's own scheduler stays idle: the test moves time and sweeps itself.
    gh = await startTestPlatform({ smtpUrl: new Secret(smtp.url), smtpFrom: 'Gatehouse <pci@gatehouse.example>', schedulerIntervalMs: 3_600_000 });
    context = gh.platform.context;
    context.now = () => today;
    const pool = context.pool;
    merchants.a = (await createMerchant(pool, 'Merchant A')).id;
    merchants.b = (await createMerchant(pool, 'Merchant B')).id;
    await createUser(pool, { email: 'admin@a.example', role: 'merchant_admin', merchantId: merchants.a, password });
    await createUser(pool, { email: 'viewer@a.example', role: 'merchant_viewer', merchantId: merchants.a, password });
    const gone = await createUser(pool, { email: 'gone@a.example', role: 'merchant_admin', merchantId: merchants.a, password });
    await pool.query('UPDATE users SET disabled = true WHERE id = $1', [String(gone.id)]);
    await createUser(pool, { email: 'admin@b.example', role: 'merchant_admin', merchantId: merchants.b, password });
    // Merchant A: an ASV scan valid for 31 more days, an SAQ valid for a year (below 6,000,000 operations, so SAQ).
    await pool.query(`INSERT INTO pci_documents (merchant_id, kind, issued_on, valid_until) VALUES ($1, 'asv_scan', $2, $3), ($1, 'saq', $2, $4)`, [
      String(merchants.a),
      isoDay(new Date(today.getTime() - 60 * dayMs)),
      isoDay(new Date(today.getTime() + 31 * dayMs)),
      isoDay(new Date(today.getTime() + 365 * dayMs)),
    ]);
    clients.adminA = new DashboardClient(gh.baseUrl);
    clients.viewerA = new DashboardClient(gh.baseUrl);
    clients.adminB = new DashboardClient(gh.baseUrl);
    assert.equal((await clients.adminA.signIn('admin@a.example', password)).status, 200);
    assert.equal((await clients.viewerA.signIn('viewer@a.example', password)).status, 200);
    assert.equal((await clients.adminB.signIn('admin@b.example', password)).status, 200);
  });
  after(async () => {
    await gh?.stop();
    await smtp?.stop();
    await stopTestServer();
  });

  test('a document expiring in 31 days has no reminder; 30 days before it has exactly one, also swept twice on two nodes', async () => {
    // Merchant B has no documents at all: its two required ones are missing (B's own notices).
    assert.equal(await sweepPciReminders(context, today), 2);
    assert.deepEqual(await notificationsOf(merchants.a), []);

    // A second node: its own connection pool on the same database, sweeping at the same moment.
    const secondPool = createPool(gh.database.connectionString, 4);
    const secondNode: PlatformContext = { ...context, pool: secondPool };
    try {
      const oneDayLater = new Date(today.getTime() + dayMs);
      const made = await Promise.all([sweepPciReminders(context, oneDayLater), sweepPciReminders(secondNode, oneDayLater)]);
      await Promise.all([sweepPciReminders(context, oneDayLater), sweepPciReminders(secondNode, new Date(oneDayLater.getTime() + dayMs))]);
      const rows = await notificationsOf(merchants.a);
      assert.deepEqual(rows.map((row) => [row.kind, row.document_kind, row.offset_days, row.title]), [
        ['pci_document_expiring', 'asv_scan', 30, 'ASV scan report expires in 30 days'],
      ]);
      assert.equal(made.reduce((sum, count) => sum + count, 0), 1, 'the two nodes made one reminder between them');
      assert.deepEqual((await notificationsOf(merchants.b)).map((row) => [row.kind, row.document_kind]).sort(), [
        ['pci_document_missing', 'asv_scan'],
        ['pci_document_missing', 'saq'],
      ]);
    } finally {
      await secondPool.end();
    }
  });

  test("the merchant's active admins get the reminder by e-mail over SMTP; viewers, disabled admins and other merchants do not", async () => {
    await waitFor('the e-mail to admin@a.example', () => emailsTo('admin@a.example').length === 1);
    const [email] = emailsTo('admin@a.example');
    assert.equal(email.subject, 'ASV scan report expires in 30 days');
    assert.equal(email.from, 'pci@gatehouse.example');
    assert.match(email.text, /Your ASV scan report is valid until \d{4}-\d{2}-\d{2}\./);
    assert.match(email.text, new RegExp(`${gh.baseUrl}/dashboard/notifications`));
    await waitFor('the e-mails to admin@b.example', () => emailsTo('admin@b.example').length === 2);
    await sleep(300);
    assert.equal(emailsTo('viewer@a.example').length, 0);
    assert.equal(emailsTo('gone@a.example').length, 0);
    assert.ok(emailsTo('admin@b.example').every((message) => message.subject.endsWith('is missing')), 'B only hears of its own documents');
    assert.equal(emailsTo('admin@a.example').length, 1, 'one e-mail per reminder, however many sweeps');
  });

  test('the in-app list: my merchant only, an unread badge per user, mark read', async () => {
    const listA = await clients.viewerA.get('/notifications');
    assert.equal(listA.status, 200);
    assert.equal(listA.json.unread_count, 1);
    assert.deepEqual(listA.json.notifications.map((item: { title: string; read: boolean }) => [item.title, item.read]), [['ASV scan report expires in 30 days', false]]);
    const reminderId = listA.json.notifications[0].id;

    const listB = await clients.adminB.get('/notifications');
    assert.equal(listB.json.unread_count, 2);
    assert.ok(!listB.json.notifications.some((item: { id: number }) => item.id === reminderId), "B does not see A's reminder");
    assert.equal((await clients.adminB.post(`/notifications/${reminderId}/read`)).status, 404, "B cannot touch A's reminder");
    assert.equal((await clients.viewerA.post(`/notifications/${listB.json.notifications[0].id}/read`)).status, 404);

    const read = await clients.viewerA.post(`/notifications/${reminderId}/read`);
    assert.equal(read.status, 200);
    assert.equal(read.json.unread_count, 0);
    assert.equal((await clients.viewerA.get('/notifications?unread=true')).json.notifications.length, 0);
    assert.equal((await clients.adminA.get('/notifications')).json.unread_count, 1, "the viewer's read is the viewer's own");
    assert.equal((await clients.viewerA.post(`/notifications/${reminderId}/read`, {}, { csrfToken: false })).status, 403, 'CSRF token required');
  });

  test('a failed SMTP delivery is retried until the server accepts it; 14 days before, the next reminder', async () => {
    smtp.refuseNext = 1;
    await sweepPciReminders(context, new Date(today.getTime() + 17 * dayMs));
    const rows = await notificationsOf(merchants.a);
    assert.deepEqual(rows.map((row) => row.offset_days), [30, 14]);
    assert.equal(rows[1].title, 'ASV scan report expires in 14 days');
    await waitFor('the retried e-mail', () => emailsTo('admin@a.example').some((email) => email.subject === 'ASV scan report expires in 14 days'));
    assert.equal(smtp.refused, 1);
    const copiesOf = async () =>
      (await context.pool.query(`SELECT e.status, e.attempts FROM notification_emails e JOIN users u ON u.id = e.user_id WHERE e.notification_id = $1`, [rows[1].id])).rows;
    // The server has the message before the job records it as sent.
    await waitFor('the copy recorded as sent', async () => (await copiesOf()).every((copy) => copy.status !== 'pending'));
    assert.deepEqual(await copiesOf(), [{ status: 'sent', attempts: 2 }]);
  });

  test('the day after valid_until: the expired notice, once; the status the merchant sees says expired', async () => {
    const expiredAt = new Date(today.getTime() + 32 * dayMs);
    await sweepPciReminders(context, expiredAt);
    await sweepPciReminders(context, new Date(expiredAt.getTime() + dayMs));
    const rows = await notificationsOf(merchants.a);
    assert.deepEqual(rows.map((row) => row.kind), ['pci_document_expiring', 'pci_document_expiring', 'pci_document_expired']);
    assert.equal(rows[2].title, 'ASV scan report has expired');
    await waitFor('the expiry e-mail', () => emailsTo('admin@a.example').some((email) => email.subject === 'ASV scan report has expired'));
    const list = await clients.adminA.get('/notifications');
    assert.equal(list.json.notifications[0].title, 'ASV scan report has expired');
    assert.equal(list.json.unread_count, 3);
    assert.equal((await clients.adminA.post('/notifications/read-all')).json.unread_count, 0);
  });

  test('operators see upcoming expiries; merchant users cannot', async () => {
    await createUser(context.pool, { email: 'ops@gatehouse.example', role: 'operator', merchantId: null, password });
    const operator = new DashboardClient(gh.baseUrl);
    await operator.signIn('ops@gatehouse.example', password);
    const answer = await operator.get('/operator/pci-expiries?within_days=40');
    assert.equal(answer.status, 200);
    const rows = answer.json.expiries.map((row: { merchant_name: string; kind: string; status: string; days_left: number | null }) => [row.merchant_name, row.kind, row.status, row.days_left]);
    assert.deepEqual(rows, [
      ['Merchant B', 'asv_scan', 'missing', null],
      ['Merchant B', 'saq', 'missing', null],
      ['Merchant A', 'asv_scan', 'ok', 31],
    ]);
    assert.equal(answer.json.expiries[2].last_reminder.title, 'ASV scan report has expired');
    assert.equal((await clients.adminA.get('/operator/pci-expiries')).status, 403);
  });

  test("the node's scheduler runs the sweep; without SMTP a reminder is in-app only", async () => {
    const merchantC = (await createMerchant(context.pool, 'Merchant C')).id;
    await createUser(context.pool, { email: 'admin@c.example', role: 'merchant_admin', merchantId: merchantC, password });
    const inAppOnly: PlatformContext = { ...context, config: { ...context.config, smtpUrl: undefined } };
    const scheduler = startScheduler(inAppOnly, 20);
    try {
      await waitFor("C's missing-document notices", async () => (await notificationsOf(merchantC)).length === 2, 10_000);
    } finally {
      await scheduler.stop();
    }
    const { rows } = await context.pool.query('SELECT count(*)::int AS count FROM notification_emails e JOIN notifications n ON n.id = e.notification_id WHERE n.merchant_id = $1', [
      String(merchantC),
    ]);
    assert.equal(rows[0].count, 0);
    assert.equal(emailsTo('admin@c.example').length, 0);
  });
});
