/**
 * The payer's approval page, PayPal's `checkoutnow?token=<order id>`: a small
 * server-rendered form (no scripts, strict CSP) that posts to its own URL with
 * `action=approve` or `action=cancel`, so a person can click it and a script
 * can post the same form.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SandboxContext } from './context.ts';
import { payerIdForEmail } from './ids.ts';
import { formatAmount } from './money.ts';
import { assertNever, orderRepresentation } from './representations.ts';
import { findOrder, retryingWriteConflicts, updateOrderFrom, withConnection, WriteBatch, type OrderRecord, type PayerRecord } from './store.ts';
import { recordWebhookEvent } from './webhooks.ts';
import { webhookCopiesFor } from './scenarios.ts';

/** PayPal's approve links are good for 3 hours after the order is created. */
export const approvalWindowMs = 3 * 60 * 60 * 1000;
export const defaultPayerEmail = 'buyer@example.com';

const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

const stylesheet = `
:root { color-scheme: light; font-family: system-ui, sans-serif; }
body { margin: 0; background: #f5f7fa; color: #1a1a1a; }
main { max-width: 28rem; margin: 3rem auto; padding: 2rem; background: #fff; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
h1 { font-size: 1.4rem; margin-top: 0; }
.sandbox { background: #fff4ce; padding: .5rem .75rem; border-radius: 4px; font-size: .9rem; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .4rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; border: 1px solid #6b7280; border-radius: 4px; }
.hint { font-size: .85rem; color: #4b5563; }
.error { color: #b91c1c; font-weight: 600; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; flex-wrap: wrap; }
button { font-size: 1rem; padding: .6rem 1.2rem; border-radius: 999px; border: 2px solid #003087; cursor: pointer; }
button[value=approve] { background: #003087; color: #fff; }
button[value=cancel] { background: #fff; color: #003087; }
button:focus-visible, input:focus-visible, a:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – PayPal sandbox</title>
<link rel="stylesheet" href="assets/checkout.css">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function sendPage(reply: FastifyReply, statusCode: number, html: string): FastifyReply {
  return reply
    .code(statusCode)
    .header('content-security-policy', contentSecurityPolicy)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(html);
}

function messagePage(reply: FastifyReply, statusCode: number, title: string, message: string, link?: { href: string; text: string }): FastifyReply {
  const linkHtml = link ? `\n<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a></p>` : '';
  return sendPage(reply, statusCode, page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>${linkHtml}`));
}

function approvalForm(order: OrderRecord, email: string, emailError?: string): string {
  const amount = `${formatAmount(order.amountMinor, order.currency)} ${order.currency}`;
  const merchant = order.details.brandName ?? 'Sandbox merchant';
  const description = order.details.purchaseUnit.description as string | undefined;
  const errorHtml = emailError ? `\n<p id="email-error" class="error">${escapeHtml(emailError)}</p>` : '';
  const describedBy = emailError ? 'email-error email-hint' : 'email-hint';
  return page(
    'Review your payment',
    `<h1>Review your payment</h1>
<p class="sandbox">Gatehouse PayPal sandbox: no real money moves.</p>
<dl>
<dt>Merchant</dt><dd>${escapeHtml(merchant)}</dd>${description ? `\n<dt>Description</dt><dd>${escapeHtml(description)}</dd>` : ''}
<dt>Amount</dt><dd>${escapeHtml(amount)}</dd>
</dl>
<form method="post" action="checkoutnow?token=${encodeURIComponent(order.id)}">
<label for="email">PayPal account email</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${escapeHtml(email)}" aria-describedby="${describedBy}"${emailError ? ' aria-invalid="true"' : ''}>${errorHtml}
<p id="email-hint" class="hint">Any address works. An address containing <code>+denied</code> makes the capture go pending and then be declined.</p>
<div class="actions">
<button type="submit" name="action" value="approve">Pay ${escapeHtml(amount)}</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel and return to merchant</button>
</div>
</form>`,
  );
}

type Refusal = { statusCode: number; title: string; message: string };
type ApprovalOutcome =
  | { kind: 'refused'; refused: Refusal }
  | { kind: 'invalid email'; order: OrderRecord }
  | { kind: 'approved'; order: OrderRecord };

/** Why an order cannot be approved right now, as an error page; undefined when it can. */
function refusal(order: OrderRecord | undefined, now: Date): Refusal | undefined {
  if (!order) return { statusCode: 404, title: 'Payment not found', message: 'There is no payment with this token.' };
  switch (order.status) {
    case 'CREATED':
    case 'PAYER_ACTION_REQUIRED':
      if (now.getTime() - order.createdAt.getTime() > approvalWindowMs) {
        return { statusCode: 410, title: 'Payment expired', message: 'This payment was not approved in time. Return to the merchant and start again.' };
      }
      return undefined;
    case 'APPROVED':
      return { statusCode: 409, title: 'Payment already approved', message: 'You already approved this payment.' };
    case 'COMPLETED':
      return { statusCode: 409, title: 'Payment already completed', message: 'This payment is already complete.' };
    default:
      return assertNever(order.status);
  }
}

function withQuery(url: string, parameters: Record<string, string>): string {
  const target = new URL(url);
  for (const [name, value] of Object.entries(parameters)) target.searchParams.set(name, value);
  return target.toString();
}

/** A sandbox payer for an email: the name comes from the local part ("jane.doe" -> Jane Doe). */
export function payerForEmail(email: string): PayerRecord {
  const words = email.split('@')[0]!.split('+')[0]!.split(/[._-]+/).filter(Boolean);
  const capitalized = (word: string | undefined) => (word ? word[0]!.toUpperCase() + word.slice(1).toLowerCase() : undefined);
  return {
    payerId: payerIdForEmail(email),
    emailAddress: email,
    givenName: capitalized(words[0]) ?? 'Sandbox',
    surname: capitalized(words[1]) ?? 'Buyer',
    countryCode: 'US',
  };
}

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function registerCheckoutPage(app: FastifyInstance, context: SandboxContext): void {
  app.get('/assets/checkout.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=3600').send(stylesheet));

  app.get<{ Querystring: { token?: string } }>('/checkoutnow', async (request, reply) => {
    const token = request.query.token;
    if (!token) return messagePage(reply, 400, 'Missing payment token', 'The link is missing its token parameter.');
    const order = await withConnection(context.pool, (client) => findOrder(client, token));
    const refused = refusal(order, context.now());
    if (refused) return messagePage(reply, refused.statusCode, refused.title, refused.message);
    return sendPage(reply, 200, approvalForm(order!, defaultPayerEmail));
  });

  app.post<{ Querystring: { token?: string }; Body: { action?: string; email?: string } | undefined }>('/checkoutnow', async (request, reply) => {
    const token = request.query.token;
    if (!token) return messagePage(reply, 400, 'Missing payment token', 'The link is missing its token parameter.');
    const action = request.body?.action;
    if (action === 'cancel') return cancel(reply, token);
    if (action !== 'approve') return messagePage(reply, 400, 'Unknown action', 'Choose to pay or to cancel.');
    // Scripts post only `action=approve` (the documented contract): a default payer then approves.
    const email = request.body?.email === undefined ? defaultPayerEmail : request.body.email.trim();
    return approve(reply, token, email);
  });

  async function cancel(reply: FastifyReply, token: string): Promise<FastifyReply> {
    const order = await withConnection(context.pool, (client) => findOrder(client, token));
    const refused = refusal(order, context.now());
    if (refused) return messagePage(reply, refused.statusCode, refused.title, refused.message);
    // The payer leaving changes nothing at PayPal: the order stays unapproved.
    if (order!.details.cancelUrl) return reply.redirect(withQuery(order!.details.cancelUrl, { token }), 303);
    return messagePage(reply, 200, 'Payment cancelled', 'You cancelled the payment. You can close this window.');
  }

  async function approve(reply: FastifyReply, token: string, email: string): Promise<FastifyReply> {
    // Read without a lock; the approval is a transition out of the status read, so a second approval at the same time
    // (a double click) writes nothing and runs again, to find the order APPROVED.
    const outcome = await retryingWriteConflicts(() => withConnection(context.pool, async (client): Promise<ApprovalOutcome> => {
      const order = await findOrder(client, token);
      const refused = refusal(order, context.now());
      if (refused) return { kind: 'refused', refused };
      if (email.length > 254 || !emailPattern.test(email)) return { kind: 'invalid email', order: order! };
      const approved: OrderRecord = { ...order!, status: 'APPROVED', payer: payerForEmail(email), updatedAt: context.now() };
      const writes = new WriteBatch();
      await updateOrderFrom(writes, approved, order!.status);
      await recordWebhookEvent(writes, context, {
        eventType: 'CHECKOUT.ORDER.APPROVED',
        resourceId: approved.id,
        summary: 'An order has been approved by buyer',
        resource: orderRepresentation(context, { order: approved, captures: [], authorizations: [], refunds: [] }, 'full'),
        copies: webhookCopiesFor(approved.amountMinor, approved.currency),
      });
      await writes.send(client);
      return { kind: 'approved', order: approved };
    }));
    switch (outcome.kind) {
      case 'refused':
        return messagePage(reply, outcome.refused.statusCode, outcome.refused.title, outcome.refused.message);
      case 'invalid email':
        return sendPage(reply, 400, approvalForm(outcome.order, email, 'Enter an email address like name@example.com.'));
      case 'approved':
        break;
      default:
        assertNever(outcome);
    }
    const { order } = outcome;
    context.afterCommit.deliverWebhooks();
    if (order.details.returnUrl) return reply.redirect(withQuery(order.details.returnUrl, { token, PayerID: order.payer!.payerId }), 303);
    return messagePage(reply, 200, 'Payment approved', 'You approved the payment. You can close this window and return to the merchant.');
  }
}
