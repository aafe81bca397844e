import { randomBytes } from 'node:crypto';
import formbody from '@fastify/formbody';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GateError } from '../domain/errors.ts';
import { newRequestId } from '../gate/operations.ts';
import { formatCallbackDate } from '../callbacks/body.ts';
import {
  checkPurchaseRules,
  isPaypalAvailable,
  pageViewOf,
  saleBodyFor,
  startPayment,
  summaryOf,
  waitPath,
  type PaymentDraft,
} from '../payment-page/flow.ts';
import { languageFor, text, type Language } from '../payment-page/i18n.ts';
import { htmlErrorHandler } from '../payment-page/index.ts';
import { invalidParameter, PageProblem, paypalMethodCode } from '../payment-page/parameters.ts';
import { sendHtml, sendProblem, sendView } from '../payment-page/respond.ts';
import { deleteSession, findSession, insertSession, type PageSession } from '../payment-page/sessions.ts';
import { saleProblem } from '../payment-page/validation.ts';
import { choosePage, noticePage } from '../payment-page/views.ts';
import type { PlatformContext } from '../processing/context.ts';
import { PaymentLinkCreatedResponse, PaymentLinkStatusResponse, documentationOnlySerializer, documentedResponses } from '../observability/openapi-schemas.ts';
import { verifyGateRequest } from '../signature/index.ts';
import { withTransaction } from '../store/db.ts';
import { findProject, type Project } from '../store/projects.ts';
import { attemptInProgress, linkStatus, paidAttempts } from './rules.ts';
import { createLink } from './create.ts';
import { findLink, linkPaymentId, listAttempts, lockLink, takeAttemptNumber, type PaymentLink } from './store.ts';

/**
 * Payment links: a merchant creates one with a signed request and sends its
 * URL to a customer, who pays on the Payment Page without the merchant
 * building a signed page URL.
 *
 * - POST /v2/payment-links: `{general:{project_id, signature}, link:{amount,
 *   currency, description, single_use, expires_at?}}` -> `{link_id, url, ...}`
 * - POST /v2/payment-links/status: `{general:{project_id, signature},
 *   link:{id}}` -> the link, its status (active, paid, expired) and payments
 * - GET /pay/<link_id>: the Payment Page for the link; POST /pay/<link_id>
 *   starts a payment `link-<link_id>-<n>` through the same path as a Gate sale.
 *
 * A single-use link takes one successful payment; a declined or cancelled
 * attempt does not use it up. While one attempt is open, reopening the link
 * shows that attempt instead of starting a second payment.
 */
export async function paymentLinkRoutes(app: FastifyInstance, options: { context: PlatformContext }): Promise<void> {
  await app.register(linkApiRoutes, options);
  await app.register(linkPageRoutes, options);
}

const iso8601 = Type.String({ minLength: 1, maxLength: 64, pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})$' });
const LinkGeneral = Type.Object({
  project_id: Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 }),
  signature: Type.Optional(Type.String({ maxLength: 1024 })),
});

export const CreateLinkRequest = Type.Object({
  general: LinkGeneral,
  link: Type.Object({
    amount: Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    description: Type.String({ maxLength: 255 }),
    single_use: Type.Boolean(),
    expires_at: Type.Optional(iso8601),
  }),
});
export type CreateLinkBody = Static<typeof CreateLinkRequest>;

export const LinkStatusRequest = Type.Object({
  general: LinkGeneral,
  link: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
});
export type LinkStatusBody = Static<typeof LinkStatusRequest>;

export function linkUrl(context: PlatformContext, linkId: string): string {
  return `${context.config.publicUrl}/pay/${linkId}`;
}

/** OpenAPI metadata (`npm run openapi`); it changes nothing at run time. */
export const paymentLinkTag = 'Payment links';
const createDocumentation = {
  tags: [paymentLinkTag],
  operationId: 'payment_link_create',
  summary: 'Create a payment link',
  description:
    'A link the customer pays at `url` (the Payment Page) without the merchant building a signed page URL. The rules of a Gate sale of that amount apply now (PayPal enabled, a PayPal currency, the purchase maximum); `expires_at` must be in the future. A single-use link takes one successful payment; each attempt is a payment `link-<link_id>-<n>` that reports by callback like a Gate sale.',
  response: documentedResponses(PaymentLinkCreatedResponse, 'The link, ready to send to a customer.', 'paymentLinkCreate'),
};
const statusDocumentation = {
  tags: [paymentLinkTag],
  operationId: 'payment_link_status',
  summary: 'Payment link status',
  description: "The link, its status (`active`, `paid`, `expired`) and the payments made through it. Another project's link answers `3061` like an unknown one.",
  response: documentedResponses(PaymentLinkStatusResponse, 'The link and its payments.', 'paymentLinkStatus'),
};

/** The merchant's API: JSON in and out, signed like Gate, errors from the one registry (also in the OpenAPI document). */
export async function linkApiRoutes(app: FastifyInstance, options: { context: PlatformContext }): Promise<void> {
  const { context } = options;

  async function authenticate(request: FastifyRequest, projectId: number): Promise<Project> {
    const project = await findProject(context.pool, projectId, context.now());
    if (!project) throw new GateError('projectNotFound', String(projectId));
    const verdict = verifyGateRequest(request.body, project.secretKeys);
    if (verdict === 'missing') throw new GateError('emptySignature');
    if (verdict === 'invalid') throw new GateError('invalidSignature');
    return project;
  }

  const createOptions = { schema: { body: CreateLinkRequest, ...createDocumentation }, serializerCompiler: documentationOnlySerializer };
  app.post<{ Body: CreateLinkBody }>('/v2/payment-links', createOptions, async (request) => {
    const { general, link } = request.body;
    const project = await authenticate(request, general.project_id);
    const created = await createLink(context, project, link, context.now());
    return {
      status: 'success',
      request_id: newRequestId(),
      project_id: Number(project.id),
      link_id: created.id,
      url: linkUrl(context, created.id),
      single_use: created.singleUse,
      expires_at: created.expiresAt ? formatCallbackDate(created.expiresAt) : null,
    };
  });

  const statusOptions = { schema: { body: LinkStatusRequest, ...statusDocumentation }, serializerCompiler: documentationOnlySerializer };
  app.post<{ Body: LinkStatusBody }>('/v2/payment-links/status', statusOptions, async (request) => {
    const { general, link: query } = request.body;
    const project = await authenticate(request, general.project_id);
    const link = await findLink(context.pool, query.id);
    if (!link || link.projectId !== project.id) throw new GateError('paymentNotFound', `payment link ${query.id}`);
    const attempts = await listAttempts(context.pool, link);
    return {
      project_id: Number(project.id),
      link: {
        id: link.id,
        url: linkUrl(context, link.id),
        status: linkStatus(link, attempts, context.now()),
        amount: Number(link.amountMinor),
        currency: link.currency,
        description: link.description,
        single_use: link.singleUse,
        expires_at: link.expiresAt ? formatCallbackDate(link.expiresAt) : null,
        created_at: formatCallbackDate(link.createdAt),
        paid_count: paidAttempts(attempts).length,
        payments: attempts
          .filter((attempt) => attempt.paymentStatus !== null)
          .map((attempt) => ({
            payment_id: attempt.paymentId,
            status: attempt.paymentStatus,
            date: attempt.paymentUpdatedAt ? formatCallbackDate(attempt.paymentUpdatedAt) : null,
          })),
      },
    };
  });
}

const noncePattern = /^[A-Za-z0-9_-]{22}$/;

/** The customer's pages: HTML, the Payment Page's CSP and look. */
async function linkPageRoutes(app: FastifyInstance, options: { context: PlatformContext }): Promise<void> {
  const { context } = options;
  await app.register(formbody, { bodyLimit: 4096 });
  app.setErrorHandler(htmlErrorHandler(context));

  app.get<{ Params: { linkId: string }; Querystring: { language_code?: string } }>('/pay/:linkId', async (request, reply) => {
    const language = languageFor(request.query.language_code);
    try {
      const { link, project } = await openLink(request.params.linkId);
      const attempts = await listAttempts(context.pool, link);
      const now = context.now();
      const status = linkStatus(link, attempts, now);
      if (status === 'paid') return sendHtml(reply, context, 200, noticePage(language, text(language, 'linkPaidTitle'), text(language, 'linkPaidText')));
      if (status === 'expired') throw new PageProblem(410, 'errorExpired');
      const busy = link.singleUse ? attemptInProgress(attempts, now) : undefined;
      const busySession = busy && (await findSession(context.pool, busy.token));
      if (busySession) {
        const view = await pageViewOf(context, busySession);
        if (view.kind !== 'not started' && view.kind !== 'foreign') return sendView(reply, context, project, busySession, view, 'page');
      }
      if (!isPaypalAvailable(context, project)) throw PageProblem.of(400, 'errorMethodUnavailable', {}, 'methodNotEnabled');
      const summary = summaryOf(project, { amountMinor: link.amountMinor, currency: link.currency, description: link.description, paymentId: '' });
      return sendHtml(
        reply,
        context,
        200,
        choosePage({
          language,
          summary,
          formAction: `/pay/${link.id}?language_code=${language}`,
          forced: false,
          hiddenFields: { nonce: randomBytes(16).toString('base64url') },
        }),
      );
    } catch (error) {
      if (error instanceof PageProblem) return sendProblem(reply, context, language, error);
      throw error;
    }
  });

  app.post<{ Params: { linkId: string }; Querystring: { language_code?: string }; Body: { method?: string; nonce?: string } | undefined }>(
    '/pay/:linkId',
    async (request, reply) => {
      const language = languageFor(request.query.language_code);
      try {
        if (request.body?.method !== paypalMethodCode) throw invalidParameter('method');
        const nonce = request.body?.nonce ?? '';
        if (!noncePattern.test(nonce)) throw invalidParameter('nonce');
        const { project } = await openLink(request.params.linkId);
        const decision = await numberAttempt(request.params.linkId, project, nonce, language);
        if (decision.kind === 'paid') return sendHtml(reply, context, 200, noticePage(language, text(language, 'linkPaidTitle'), text(language, 'linkPaidText')));
        if (decision.kind === 'existing') return reply.redirect(waitPath(decision.token), 303);
        await startLinkPayment(request, project, decision.link, decision.session);
        return reply.redirect(waitPath(decision.session.token), 303);
      } catch (error) {
        if (error instanceof PageProblem) return sendProblem(reply, context, language, error);
        throw error;
      }
    },
  );

  async function openLink(linkId: string): Promise<{ link: PaymentLink; project: Project }> {
    const link = await findLink(context.pool, linkId);
    const project = link && (await findProject(context.pool, link.projectId, context.now()));
    if (!link || !project) throw new PageProblem(404, 'errorLinkNotFound');
    return { link, project };
  }

  type AttemptDecision =
    | { kind: 'paid' }
    | { kind: 'existing'; token: string }
    | { kind: 'new'; link: PaymentLink; session: PageSession };

  /**
   * Under the link's row lock: the same form submitted twice finds its
   * attempt (by nonce); a single-use link that is paid or busy starts
   * nothing; otherwise the next attempt number and its session are written.
   */
  async function numberAttempt(linkId: string, project: Project, nonce: string, language: Language): Promise<AttemptDecision> {
    return withTransaction(context.pool, async (tx) => {
      const link = await lockLink(tx, linkId);
      if (!link) throw new PageProblem(404, 'errorLinkNotFound');
      const attempts = await listAttempts(tx, link);
      const sameForm = attempts.find((attempt) => attempt.nonce === nonce);
      if (sameForm) return { kind: 'existing', token: sameForm.token };
      const now = context.now();
      const status = linkStatus(link, attempts, now);
      if (status === 'paid') return { kind: 'paid' };
      if (status === 'expired') throw new PageProblem(410, 'errorExpired');
      const busy = link.singleUse ? attemptInProgress(attempts, now) : undefined;
      if (busy) return { kind: 'existing', token: busy.token };
      const attempt = await takeAttemptNumber(tx, link.id);
      const session = await insertSession(tx, {
        projectId: project.id,
        paymentId: linkPaymentId(link.id, attempt),
        fingerprint: `link:${link.id}`,
        language,
        link: { id: link.id, attempt, nonce },
      });
      return { kind: 'new', link, session };
    });
  }

  /** Creates the attempt's payment as a Gate sale; a refusal removes the attempt so it does not hold a single-use link. */
  async function startLinkPayment(request: FastifyRequest, project: Project, link: PaymentLink, session: PageSession): Promise<void> {
    const draft: PaymentDraft = {
      projectId: Number(project.id),
      paymentId: session.paymentId,
      amountMinor: link.amountMinor,
      currency: link.currency,
      description: link.description,
      customer: { id: session.paymentId },
    };
    try {
      await checkPurchaseRules(context, project, draft);
      const sale = saleBodyFor(context, draft, session.token, request.ip);
      const problem = saleProblem(request, sale);
      if (problem) throw invalidParameter(problem);
      await startPayment(context, project, session, sale);
    } catch (error) {
      await deleteSession(context.pool, session.token).catch(() => undefined);
      throw error;
    }
  }
}
