/**
 * A stateful simulator of PayPal's REST API (OAuth2, Orders v2, Payments v2,
 * Payouts v1, Vault v3 payment tokens, webhooks) plus the payer's approval
 * page, speaking PayPal's own request and response shapes. Test projects point
 * the PayPal connector at it; `README.md` next to this file lists the
 * endpoints, the deterministic scenarios and the errors.
 *
 * @example
 * await app.register(paypalSandboxPlugin, {
 *   prefix: '/sandbox/paypal',
 *   pool,
 *   clientId: 'sandbox-client', clientSecret: 'sandbox-secret',
 *   publicBaseUrl: 'http://127.0.0.1:8080/sandbox/paypal',
 *   webhookUrl: () => 'http://127.0.0.1:8080/webhooks/paypal',
 *   webhookId: 'WH-SANDBOX',
 *   timeoutScenarioDelayMs: 35_000,
 *   pendingCompletionDelayMs: 5_000,
 * });
 */
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { IntakePressure } from '../../jobs/intake-pressure.ts';
import { registerCheckoutPage } from './checkout-page.ts';
import type { SandboxContext } from './context.ts';
import { registerDisputeRoutes, registerDisputeTestRoute } from './disputes.ts';
import { installErrorHandling, installJsonParser } from './http.ts';
import { merchantIdForClient } from './ids.ts';
import { registerCertificateRoute, registerNotificationRoutes } from './notifications.ts';
import { AccessTokens, registerOauthRoutes, requireAccessToken } from './oauth.ts';
import { registerOrderRoutes } from './orders.ts';
import { registerPaymentRoutes, settlePendingCapture } from './payments.ts';
import { registerPayoutRoutes, settlePayoutBatch } from './payouts.ts';
import { ScheduledWorkRunner } from './scheduled-work.ts';
import { registerVaultRoutes } from './vault.ts';
import { certificatePath, loadOrCreateSigningKey, WebhookDispatcher } from './webhooks.ts';

export interface PaypalSandboxOptions {
  pool: pg.Pool;                 // state lives in PostgreSQL schema paypal_sandbox (survives restarts / kill -9 of the platform)
  clientId: string;              // the OAuth2 client credentials it accepts
  clientSecret: string;
  publicBaseUrl: string;         // absolute URL where this plugin is mounted, e.g. http://127.0.0.1:8080/sandbox/paypal ; used in HATEOAS links and the approve link
  webhookUrl: () => string | undefined;   // where webhook events are POSTed (platform endpoint); undefined = don't send
  webhookId: string;             // the webhook id used in signatures / verify-webhook-signature
  timeoutScenarioDelayMs: number;   // how long the "timeout" scenario stalls before answering
  pendingCompletionDelayMs: number; // how long a PENDING capture waits before completing + webhook
  now?: () => Date;              // injectable clock
  pressure?: Pick<IntakePressure, 'slotsFor'>; // the node's intake pressure: webhook deliveries go one at a time while merchants' requests crowd the process
}

/** How often due work and left-over webhook deliveries are looked for, besides the timers set when they are written. */
const sweepIntervalMs = 1_000;

export async function paypalSandboxPlugin(app: FastifyInstance, options: PaypalSandboxOptions): Promise<void> {
  const prefix = app.prefix;
  const now = options.now ?? (() => new Date());
  const baseUrl = options.publicBaseUrl.replace(/\/+$/, '');
  const log = (message: string, error?: unknown) => app.log.warn({ err: error }, message);
  const key = await loadOrCreateSigningKey(options.pool);
  const dispatcher = new WebhookDispatcher({
    pool: options.pool,
    key,
    certificateUrl: `${baseUrl}${certificatePath(key)}`,
    webhookId: options.webhookId,
    webhookUrl: options.webhookUrl,
    now,
    log,
    pressure: options.pressure,
  });
  const context: SandboxContext = {
    pool: options.pool,
    baseUrl,
    merchantId: merchantIdForClient(options.clientId),
    merchantEmail: 'merchant@example.com',
    webhookId: options.webhookId,
    webhookUrl: options.webhookUrl,
    timeoutScenarioDelayMs: options.timeoutScenarioDelayMs,
    pendingCompletionDelayMs: options.pendingCompletionDelayMs,
    now,
    afterCommit: {
      deliverWebhooks: () => dispatcher.deliverDue(),
      runDueWorkAfter: (delayMs) => work.runDueAfter(delayMs),
    },
  };
  const work = new ScheduledWorkRunner({
    pool: options.pool,
    now,
    handlers: {
      settle_capture: (client, captureId) => settlePendingCapture(context, client, captureId),
      settle_payout_batch: (client, batchId) => settlePayoutBatch(context, client, batchId),
    },
    afterWork: () => dispatcher.deliverDue(),
    sweepIntervalMs,
    log,
  });
  const tokens = new AccessTokens(options.clientId, options.clientSecret);

  await app.register(formbody);
  installJsonParser(app);
  installErrorHandling(app);

  // Public: token endpoint, approval page, signing certificate, test helpers.
  registerOauthRoutes(app, tokens, now);
  registerCheckoutPage(app, context);
  registerCertificateRoute(app, key);
  registerDisputeTestRoute(app, context, prefix);

  // PayPal's REST API: Bearer token required.
  await app.register(async (api) => {
    api.addHook('onRequest', requireAccessToken(tokens));
    registerOrderRoutes(api, context, prefix);
    registerPaymentRoutes(api, context, prefix);
    registerPayoutRoutes(api, context, prefix);
    registerVaultRoutes(api, context);
    registerNotificationRoutes(api, context, key);
    registerDisputeRoutes(api, context);
  });

  app.addHook('onReady', async () => {
    work.start();
    dispatcher.deliverDue();
  });
  app.addHook('onClose', async () => {
    await work.close();
    await dispatcher.close();
  });
}
