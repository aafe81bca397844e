import type { FastifyReply } from 'fastify';
import type { PlatformContext } from '../processing/context.ts';
import type { Project } from '../store/projects.ts';
import { resultPath, summaryOf, waitingFastMs, waitingMaxMs, waitPath, type PageView } from './flow.ts';
import { text, type Language } from './i18n.ts';
import type { PageProblem } from './parameters.ts';
import type { PageSession } from './sessions.ts';
import { approvePage, declinePage, errorPage, pendingPage, successPage, waitingPage } from './views.ts';

/**
 * HTTP answers of the Payment Page: every page goes out with the same strict
 * Content-Security-Policy. Scripts and styles come only from our own origin
 * (and carry SRI hashes); forms post only to us; the one cross-origin
 * navigation a form can lead to is the wallet's approval page, so its origins
 * are the only other `form-action` sources (Chromium applies form-action to
 * the redirects that follow a form submission).
 */
export function contentSecurityPolicy(context: PlatformContext): string {
  const approvalOrigins = new Set(['https://www.paypal.com', 'https://www.sandbox.paypal.com']);
  try {
    approvalOrigins.add(new URL(context.config.publicSandboxUrl).origin);
  } catch {
    // A malformed sandbox URL only means the sandbox cannot be reached after a form post.
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `form-action 'self' ${[...approvalOrigins].join(' ')}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
  ].join('; ');
}

export function sendHtml(reply: FastifyReply, context: PlatformContext, statusCode: number, html: string): FastifyReply {
  return reply
    .code(statusCode)
    .header('content-security-policy', contentSecurityPolicy(context))
    .header('cache-control', 'no-store')
    .header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()')
    .header('cross-origin-opener-policy', 'same-origin')
    .type('text/html; charset=utf-8')
    .send(html);
}

export function sendProblem(reply: FastifyReply, context: PlatformContext, language: Language, problem: PageProblem): FastifyReply {
  const message = text(language, problem.messageKey, problem.values);
  return sendHtml(reply, context, problem.httpStatus, errorPage(language, text(language, 'errorTitle'), message, problem.code));
}

/**
 * Where the customer is: the page URL itself, the waiting URL (which moves
 * on to PayPal as soon as the order exists) or the result URL (the wallet's
 * return target).
 */
export type ViewPlace = 'page' | 'wait' | 'result';

/** Answers with the page for a payment's current state; never creates anything. */
export function sendView(
  reply: FastifyReply,
  context: PlatformContext,
  project: Project,
  session: PageSession,
  view: Exclude<PageView, { kind: 'not started' } | { kind: 'foreign' }>,
  place: ViewPlace,
): FastifyReply {
  const language = session.language;
  const summary = summaryOf(project, view.payment);
  switch (view.kind) {
    case 'starting': {
      const stage = view.waitedMs < waitingFastMs ? 'starting' : view.waitedMs < waitingMaxMs ? 'slow' : 'stalled';
      return sendHtml(reply, context, 200, waitingPage(language, summary, stage, waitPath(session.token)));
    }
    case 'approve':
      if (place === 'wait') return reply.header('cache-control', 'no-store').redirect(view.approvalUrl, 303);
      return sendHtml(reply, context, 200, approvePage(language, summary, view.approvalUrl));
    case 'pending': {
      const refreshUrl = view.waitedMs < waitingMaxMs ? resultPath(session.token) : undefined;
      return sendHtml(reply, context, 200, pendingPage(language, summary, refreshUrl, undefined));
    }
    case 'success':
      if (place === 'wait') return reply.header('cache-control', 'no-store').redirect(resultPath(session.token), 303);
      return sendHtml(reply, context, 200, successPage(language, summary, session.successUrl ?? undefined));
    case 'decline':
      if (place === 'wait') return reply.header('cache-control', 'no-store').redirect(resultPath(session.token), 303);
      return sendHtml(
        reply,
        context,
        200,
        declinePage(language, summary, view.reason, {
          shopUrl: session.failUrl ?? undefined,
          tryAgainUrl: session.linkId ? `/pay/${session.linkId}?language_code=${language}` : undefined,
        }),
      );
    default:
      return view satisfies never;
  }
}
