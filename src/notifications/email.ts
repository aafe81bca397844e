import nodemailer from 'nodemailer';
import type { Config } from '../config.ts';
import type { Secret } from '../domain/secret.ts';
import { queueNames, type NotificationEmailJob } from '../jobs/queue.ts';
import type { PlatformContext } from '../processing/context.ts';
import type { Queryable } from '../store/db.ts';

/**
 * E-mail copies of notifications, when the operator configured SMTP
 * (`SMTP_URL`); without it notifications are in-app only. Each copy (one
 * notification, one recipient) is a row written with the notification and a
 * pg-boss job sent in the same transaction, so it is delivered at least once:
 * a failed attempt throws, pg-boss retries it with growing gaps (seconds at
 * first, up to about a day apart), and after `emailAttemptsMax` attempts the
 * row is marked failed. A crash between the SMTP server's acceptance and our
 * "sent" mark sends it again; the stable Message-ID lets mail clients fold
 * such a duplicate.
 */
export const emailAttemptsMax = 20;
/** pg-boss retries beyond our own count, so a job lost with its node (expired) never ends before the row has its final state. */
const jobRetryLimit = emailAttemptsMax + 5;
/** Bounds on each SMTP step, well inside the job expiry (60 s). */
const smtpTimeoutMs = 15_000;

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  messageId: string;
}

/** Sends one message; throws when the SMTP server did not accept it. */
export interface Mailer {
  send(message: EmailMessage): Promise<void>;
  close(): void;
}

export function createMailer(smtpUrl: Secret, from: string): Mailer {
  const transport = nodemailer.createTransport({
    url: smtpUrl.reveal(),
    connectionTimeout: smtpTimeoutMs,
    greetingTimeout: smtpTimeoutMs,
    socketTimeout: smtpTimeoutMs,
  });
  return {
    async send(message) {
      await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, messageId: message.messageId });
    },
    close: () => transport.close(),
  };
}

export function emailEnabled(config: Config): boolean {
  return config.smtpUrl !== undefined;
}

/** Enqueues the send of each copy in the open transaction `db` (the one that wrote the copies). */
export async function enqueueEmails(context: PlatformContext, db: Queryable, emailIds: readonly bigint[]): Promise<void> {
  for (const emailId of emailIds) {
    const job: NotificationEmailJob = { emailId: String(emailId) };
    await context.queue.send(queueNames.notificationEmail, job, { db, retryLimit: jobRetryLimit });
  }
}

interface EmailRow {
  id: string;
  email: string;
  attempts: number;
  notification_id: string;
  title: string;
  body: string;
}

/** One attempt at one copy. Already sent or failed: nothing to do. */
export async function deliverNotificationEmail(context: PlatformContext, mailer: Mailer, emailId: bigint): Promise<void> {
  // Counting the attempt first (its own commit) keeps the count right even when the send then hangs and the job expires.
  const { rows } = await context.pool.query<EmailRow>(
    `UPDATE notification_emails e SET attempts = e.attempts + 1 FROM notifications n
      WHERE e.id = $1 AND e.status = 'pending' AND n.id = e.notification_id
      RETURNING e.id::text AS id, e.email, e.attempts, n.id::text AS notification_id, n.title, n.body`,
    [String(emailId)],
  );
  const copy = rows[0];
  if (!copy) return;
  try {
    await mailer.send(messageFor(context.config, copy));
  } catch (error) {
    await recordFailure(context, copy, error);
    return;
  }
  await context.pool.query(`UPDATE notification_emails SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = $1`, [copy.id]);
}

/** Rethrows (pg-boss retries later) until the last attempt, which marks the copy failed. */
async function recordFailure(context: PlatformContext, copy: EmailRow, error: unknown): Promise<void> {
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
  const final = copy.attempts >= emailAttemptsMax;
  await context.pool.query(`UPDATE notification_emails SET last_error = $2, status = CASE WHEN $3 THEN 'failed' ELSE status END WHERE id = $1`, [
    copy.id,
    message,
    final,
  ]);
  context.log.warn({ emailId: copy.id, attempt: copy.attempts, final, err: message }, 'notification e-mail not accepted');
  if (!final) throw error;
}

function messageFor(config: Config, copy: EmailRow): EmailMessage {
  const link = `${config.publicUrl}/dashboard/notifications`;
  return {
    to: copy.email,
    subject: copy.title,
    text: `${copy.body}\n\nYour notifications and PCI DSS status: ${link}\n\n-- \nGatehouse`,
    messageId: `<notification-${copy.notification_id}.${copy.id}@gatehouse>`,
  };
}

/**
 * Registers this node's e-mail worker when SMTP is configured; the returned
 * `close` ends the SMTP transport (after the queue stopped).
 */
export async function startEmailWorker(context: PlatformContext): Promise<{ close(): void }> {
  const { smtpUrl, smtpFrom } = context.config;
  if (!smtpUrl) return { close: () => undefined };
  const mailer = createMailer(smtpUrl, smtpFrom);
  await context.queue.work<NotificationEmailJob>(queueNames.notificationEmail, 1, (job) => deliverNotificationEmail(context, mailer, BigInt(job.emailId)));
  return { close: () => mailer.close() };
}
