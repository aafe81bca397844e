import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PlatformContext } from '../processing/context.ts';
import { verifyPaymentPageQuery } from '../signature/index.ts';
import { findPayment } from '../store/payments.ts';
import { findProject, type Project } from '../store/projects.ts';
import { assets, scriptInventory } from './assets.ts';
import {
  checkPurchaseRules,
  isPaypalAvailable,
  pageViewOf,
  saleBodyFor,
  startPayment,
  summaryOf,
  waitPath,
  type RegisterRecurring,
} from './flow.ts';
import { languageFor, type Language } from './i18n.ts';
import {
  checkRequired,
  invalidParameter,
  PageProblem,
  PageRecurring,
  paymentFingerprint,
  paypalMethodCode,
  readPageParameters,
  readProjectId,
  readQueryString,
  type PageParameters,
} from './parameters.ts';
import { sendHtml, sendProblem, sendView, type ViewPlace } from './respond.ts';
import { findSession, findSessionOfPayment, markReturned, newSessionToken, openSession, type PageSession } from './sessions.ts';
import { prefixedPath, saleProblem, schemaProblem } from './validation.ts';
import { choosePage } from './views.ts';

export type { RegisterRecurring } from './flow.ts';

export interface PaymentPageOptions {
  context: PlatformContext;
  /** COF registration through the page; without it `recurring` with `register: true` answers "not supported yet" (501). */
  registerRecurring?: RegisterRecurring;
}

/**
 * The hosted Payment Page (`/payment`), the spec's customer flow:
 * 1. GET /payment?<signed parameters>: check the parameters and signature,
 *    show the amount, description and the project's methods (PayPal). A
 *    reopened URL shows the payment's current state instead.
 * 2. POST /payment?<same parameters> (method=paypal-wallet): create the
 *    payment exactly as a Gate sale, then go to the waiting page.
 * 3. GET /payment/wait/<token>: refreshes itself (no script) until the
 *    provider job has created the PayPal order, then sends the customer to
 *    PayPal's approval page.
 * 4. GET /payment/result/<token>: where PayPal sends the customer back
 *    (through Gate's wallet-return endpoint): success, decline, or pending
 *    with auto-refresh, then a link to the shop's redirect URL.
 * Also GET /payment/script-inventory.json (PCI DSS 6.4.3) and the page's own
 * assets under /payment/assets/.
 */
export async function paymentPageRoutes(app: FastifyInstance, options: PaymentPageOptions): Promise<void> {
  const { context } = options;
  await app.register(formbody, { bodyLimit: 4096 });
  app.setErrorHandler(htmlErrorHandler(context));

  app.get<{ Params: { name: string } }>('/payment/assets/:name', async (request, reply) => {
    const asset = assets.get(`/payment/assets/${request.params.name}`);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return reply.type(asset.contentType).header('cache-control', 'public, max-age=3600').send(asset.body);
  });

  app.get('/payment/script-inventory.json', async (_request, reply) => reply.header('cache-control', 'no-cache').send(scriptInventory()));

  app.get('/payment', (request, reply) => openPage(request, reply, 'show'));
  app.post('/payment', (request, reply) => openPage(request, reply, 'pay'));

  app.get<{ Params: { token: string } }>('/payment/wait/:token', async (request, reply) => {
    const session = await findSession(context.pool, request.params.token);
    return showSession(reply, session, 'wait');
  });

  app.get<{ Params: { token: string }; Querystring: { outcome?: string } }>('/payment/result/:token', async (request, reply) => {
    let session = await findSession(context.pool, request.params.token);
    const outcome = request.query.outcome;
    if (session && (outcome === 'success' || outcome === 'decline') && !session.returnedAt) {
      await markReturned(context.pool, session.token);
      session = { ...session, returnedAt: context.now() };
    }
    return showSession(reply, session, 'result');
  });

  /** The wait and result URLs: the state of the session's payment, nothing is created here. */
  async function showSession(reply: FastifyReply, session: PageSession | undefined, place: ViewPlace): Promise<FastifyReply> {
    const language = session?.language ?? 'en';
    const project = session && (await findProject(context.pool, session.projectId, context.now()));
    if (!session || !project) return sendProblem(reply, context, language, new PageProblem(404, 'errorNotStarted'));
    const view = await pageViewOf(context, session);
    if (view.kind === 'not started') return sendProblem(reply, context, language, new PageProblem(404, 'errorNotStarted'));
    if (view.kind === 'foreign') return sendProblem(reply, context, language, PageProblem.of(409, 'errorConflict', {}, 'paymentIdExists'));
    return sendView(reply, context, project, session, view, place);
  }

  /**
   * GET shows the page (or the payment's state when it exists); POST starts
   * the payment. Both check the whole URL again: the POST carries the same
   * signed query string, so there is no server-side state to trust.
   */
  async function openPage(request: FastifyRequest, reply: FastifyReply, action: 'show' | 'pay'): Promise<FastifyReply> {
    let language: Language = 'en';
    try {
      const rawQuery = rawQueryOf(request);
      const params = readQueryString(rawQuery);
      language = languageFor(params.language_code);
      const project = await authenticate(params);
      const page = readPageParameters(params);
      const fingerprint = paymentFingerprint(params);
      if (action === 'pay') checkChosenMethod(request.body);

      let session = await findSessionOfPayment(context.pool, project.id, page.paymentId);
      if (session && (session.fingerprint !== fingerprint || session.linkId !== null)) throw conflict();
      if (session) {
        const view = await pageViewOf(context, session);
        if (view.kind === 'foreign') throw conflict();
        if (view.kind !== 'not started') {
          if (action === 'pay') return reply.redirect(waitPath(session.token), 303);
          return sendView(reply, context, project, session, view, 'page');
        }
      }

      const registration = await checkPayable(request, project, page);
      if (!session) {
        // A payment made through Gate with this payment_id: the page must not touch it.
        if (await findPayment(context.pool, project.id, page.paymentId)) throw conflict();
        session = await openSession(context.pool, {
          projectId: project.id,
          paymentId: page.paymentId,
          fingerprint,
          language: page.language,
          successUrl: page.successUrl,
          failUrl: page.failUrl,
        });
        if (session.fingerprint !== fingerprint) throw conflict();
      }

      if (action === 'show') {
        const summary = summaryOf(project, { ...page, description: page.description ?? '' });
        return sendHtml(reply, context, 200, choosePage({ language: page.language, summary, formAction: `/payment${rawQuery}`, forced: page.forced }));
      }
      const sale = saleBodyFor(context, page, session.token, request.ip);
      const started = await startPayment(context, project, session, sale, registration);
      if (!started) {
        const view = await pageViewOf(context, session);
        if (view.kind === 'foreign' || view.kind === 'not started') throw conflict();
      }
      return reply.redirect(waitPath(session.token), 303);
    } catch (error) {
      if (error instanceof PageProblem) return sendProblem(reply, context, language, error);
      throw error;
    }
  }

  /** The project named by the URL, and a signature over the parameters as received. */
  async function authenticate(params: Readonly<Record<string, string>>): Promise<Project> {
    checkRequired(params);
    const project = await findProject(context.pool, readProjectId(params), context.now());
    if (!project) throw PageProblem.of(404, 'errorProject', {}, 'projectNotFound');
    let valid: boolean;
    try {
      valid = verifyPaymentPageQuery(params, project.secretKeys);
    } catch {
      throw invalidParameter('the parameters are too large');
    }
    if (!valid) throw PageProblem.of(403, 'errorSignature', {}, 'invalidSignature');
    return project;
  }

  /**
   * Everything that must hold before the page may offer to pay, checked
   * before anything is written: best_before, a method to pay with, the
   * `recurring` object, the PayPal rules and the Gate sale schema.
   */
  async function checkPayable(
    request: FastifyRequest,
    project: Project,
    page: PageParameters,
  ): Promise<{ recurring: Record<string, unknown>; register: RegisterRecurring } | undefined> {
    if (page.bestBefore && page.bestBefore.getTime() <= context.now().getTime()) throw new PageProblem(410, 'errorExpired');
    if (!isPaypalAvailable(context, project)) throw PageProblem.of(400, 'errorMethodUnavailable', {}, 'methodNotEnabled');
    let registration: { recurring: Record<string, unknown>; register: RegisterRecurring } | undefined;
    if (page.recurring) {
      const problem = schemaProblem(request, PageRecurring, page.recurring, prefixedPath('recurring'));
      if (problem) throw PageProblem.of(400, 'errorInvalid', { detail: problem }, 'cofInvalid');
      if (page.recurring.register === true) {
        if (page.recurring.type === undefined) throw PageProblem.of(400, 'errorInvalid', { detail: 'recurring.type is required to register' }, 'cofInvalid');
        if (!options.registerRecurring) throw new PageProblem(501, 'errorRecurringUnsupported');
        registration = { recurring: page.recurring, register: options.registerRecurring };
      }
    }
    await checkPurchaseRules(context, project, page);
    const problem = saleProblem(request, saleBodyFor(context, page, newSessionToken(), request.ip));
    if (problem) throw invalidParameter(problem);
    return registration;
  }
}

function conflict(): PageProblem {
  return PageProblem.of(409, 'errorConflict', {}, 'paymentIdExists');
}

function checkChosenMethod(body: unknown): void {
  const method = (body as { method?: unknown } | undefined)?.method;
  if (method !== paypalMethodCode) throw invalidParameter('method');
}

/** The query string exactly as the browser sent it (with its leading `?`, or empty). */
export function rawQueryOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '';
  const start = url.indexOf('?');
  return start === -1 ? '' : url.slice(start);
}

/** Unexpected failures on a page still answer a page (not Gate's JSON), without details. */
export function htmlErrorHandler(context: PlatformContext) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) context.log.error({ err: error, url: request.url.split('?')[0] }, 'payment page failed');
    const problem = status === 500 ? new PageProblem(500, 'errorInternal') : invalidParameter(error.code ?? 'request');
    return sendProblem(reply, context, 'en', problem);
  };
}
