import { Type, type Static } from '@sinclair/typebox';
import { createLink } from '../payment-links/create.ts';
import { CreateLinkRequest, linkUrl } from '../payment-links/index.ts';
import { linkStatus, paidAttempts } from '../payment-links/rules.ts';
import { listAttemptsOfLinks, listLinks, type LinkAttempt, type PaymentLink } from '../payment-links/store.ts';
import type { PlatformContext } from '../processing/context.ts';
import { audited, projectOf, type RouteDefinition, type SignedCall } from './http.ts';

/**
 * Payment links from the Dashboard: the same links, rules and URLs as the
 * signed API (POST /v2/payment-links, src/payment-links), for a signed-in
 * user. Creating one takes exactly the Gate route's body `link` object and
 * its checks (PayPal enabled, currency, purchase maximum, expiry in the
 * future); the session stands in for the signature.
 */
const LinkForm = Type.Object(CreateLinkRequest.properties.link.properties, { additionalProperties: false });
type LinkFormBody = Static<typeof LinkForm>;

/** At most this many links in the list, newest first. */
export const linkListLimit = 200;

function linkView(context: PlatformContext, link: PaymentLink, attempts: readonly LinkAttempt[], now: Date) {
  return {
    id: link.id,
    url: linkUrl(context, link.id),
    status: linkStatus(link, attempts, now),
    amount: Number(link.amountMinor),
    currency: link.currency,
    description: link.description,
    single_use: link.singleUse,
    expires_at: link.expiresAt?.toISOString() ?? null,
    created_at: link.createdAt.toISOString(),
    attempts: link.attempts,
    paid_count: paidAttempts(attempts).length,
  };
}

const tags = ['Dashboard: payment links'] as const;

export function paymentLinkRoutes(context: PlatformContext): RouteDefinition[] {
  return [
    {
      method: 'GET',
      url: '/projects/:projectId/payment-links',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: "A project's payment links",
      description: `Newest first, at most ${linkListLimit}; \`status\` is \`active\`, \`paid\` (a single-use link with a successful payment) or \`expired\`.`,
      tags,
      async handle(call: SignedCall) {
        const project = await projectOf(context, call, call.params.projectId);
        const links = await listLinks(context.pool, project.id, linkListLimit);
        const attempts = await listAttemptsOfLinks(context.pool, links);
        return { links: links.map((link) => linkView(context, link, attempts.get(link.id) ?? [], call.now)) };
      },
    },
    {
      method: 'POST',
      url: '/projects/:projectId/payment-links',
      access: ['merchant_admin'],
      summary: 'Create a payment link',
      description: 'The rules of `POST /v2/payment-links` (amount in minor units, `expires_at` in the future); answers the link with the `url` to give the customer.',
      tags,
      errors: ['methodNotEnabled', 'currencyNotSupported', 'amountAboveMaximum'],
      schema: { body: LinkForm },
      async handle(call: SignedCall<LinkFormBody>) {
        const project = await projectOf(context, call, call.params.projectId);
        const form = call.body;
        return audited(
          context,
          call,
          {
            action: 'payment_link.create',
            targetType: 'project',
            targetId: String(project.id),
            details: { amount: form.amount, currency: form.currency, single_use: form.single_use, expires_at: form.expires_at ?? null },
          },
          async (tx) => {
            const link = await createLink(context, project, form, call.now, '', tx);
            return { link: linkView(context, link, [], call.now) };
          },
        );
      },
    },
  ];
}
