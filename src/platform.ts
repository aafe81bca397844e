import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type pg from 'pg';
import { CallbackDispatcher } from './callbacks/dispatcher.ts';
import type { Config } from './config.ts';
import rateLimit from '@fastify/rate-limit';
import { errorCodes } from './domain/errors.ts';
import { acceptNewPayment, newRequestId } from './gate/operations.ts';
import { gateRoutes } from './gate/routes.ts';
import { walletReturnRoutes } from './gate/wallet-return.ts';
import { refuseNulCharacters } from './http/body-guards.ts';
import { gateErrorHandler, notFoundHandler } from './http/errors.ts';
import { IntakePressure } from './jobs/intake-pressure.ts';
import { JobQueue, queueNames, type OperationJob } from './jobs/queue.ts';
import { sealStoredPaypalSecrets } from './accounts/paypal-credentials.ts';
import { createPaypalMethod } from './methods/paypal.ts';
import { CredentialCipher, credentialKeysFor } from './security/credentials.ts';
import type { PaymentMethod } from './methods/types.ts';
import type { CallbackDelivery, PlatformContext } from './processing/context.ts';
import { completeOperation, executeOperation, pollOperation } from './processing/execute.ts';
import { paymentLinkRoutes } from './payment-links/index.ts';
import { paymentPageRoutes } from './payment-page/index.ts';
import { paypalSandboxPlugin } from './sandbox/paypal/index.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './store/embedded-postgres.ts';
import { createPool, settingOrCreate, type Queryable } from './store/db.ts';
import { migrate } from './store/migrate.ts';
import { createProjectReader } from './store/projects.ts';
import { logContextMixin, registerApiDocumentation, registerObservability, requestIdFor } from './observability/index.ts';
import { paypalWebhookRoutes } from './webhooks/paypal.ts';
import { startEmailWorker } from './notifications/email.ts';
import { startScheduler } from './scheduler/runner.ts';
import { testClockRoutes } from './test-clock/routes.ts';
import { dashboardRoutes } from './dashboard/index.ts';
import { dashboardUiRoutes } from './dashboard-ui/index.ts';
import { dataApiRoutes } from './data-api/index.ts';

/**
 * One Gatehouse node: HTTP (Gate, wallet returns, webhooks, the PayPal
 * sandbox), job workers and the database connection. Nodes are stateless;
 * start as many as you like on one PostgreSQL.
 */
export interface Platform {
  app: FastifyInstance;
  context: PlatformContext;
  url: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

/** A callback claim outlasts the callback timeout by this much: room to record the attempt. */
const callbackLeaseMarginSeconds = 5;

/** Secrets the logger must never print, wherever they appear. */
export const redactedPaths = [
  'secret_key', '*.secret_key', 'secretKey', '*.secretKey', 'signature', '*.signature', '*.*.signature',
  'req.headers.authorization', 'headers.authorization', 'clientSecret', '*.clientSecret', 'client_secret', '*.client_secret', 'password', '*.password',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: redactedPaths, censor: '***' }, mixin: logContextMixin });
}

export async function startPlatform(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Platform> {
  // First: a malformed key stops the start before anything runs.
  const credentials = new CredentialCipher(credentialKeysFor(config));
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, (message) => log.info(message));
    databaseUrl = embedded.connectionString;
  }
  await migrate(databaseUrl, (message) => log.debug(message));
  const pool = createPool(databaseUrl, config.databasePoolSize);
  // Gate requests have connections of their own: a burst of background work never makes a merchant wait for one.
  const gatePool = createPool(databaseUrl, config.gatePoolSize);
  // The sandbox keeps pg's default types and its own connections: it stands for an outside service.
  const sandboxPool = createPool(databaseUrl, 8, { bigintAsBigInt: false });
  const sandboxClientSecret = process.env.SANDBOX_PAYPAL_CLIENT_SECRET ?? (await settingOrCreate(pool, 'sandbox_client_secret', () => config.sandboxClientSecret));
  const urlSigningKey = await settingOrCreate(pool, 'url_signing_key', () => randomBytes(32).toString('base64url'));
  await sealStoredPaypalSecrets(pool, credentials, log);
  const intake = new IntakePressure(config.intakePriorityRequests);
  const queue = new JobQueue({
    pressure: intake,
    connectionString: databaseUrl,
    pollingIntervalSeconds: config.jobPollingIntervalSeconds,
    // Longer than any one job can take (a provider call is bounded by its timeout).
    expireInSeconds: Math.max(config.jobExpireSeconds, Math.ceil((config.providerTimeoutMs * 3) / 1000)),
    maintenanceIntervalSeconds: config.jobMaintenanceIntervalSeconds,
  });
  await queue.start();

  const app = Fastify({
    // request.id: the caller's x-request-id when sane, else a UUID; logs and jobs carry it.
    genReqId: requestIdFor,
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    // Never coerce, strip or default: the signature covers the body as sent.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    return503OnClosing: true,
    trustProxy: config.trustProxy,
  });
  const internalUrl = `http://127.0.0.1:${config.port}`;
  const paypal = createPaypalMethod({
    sandboxApiUrl: `${internalUrl}/sandbox/paypal`,
    sandboxClientId: config.sandboxClientId,
    sandboxClientSecret,
    liveApiUrl: config.paypalLiveBaseUrl,
    timeoutMs: config.providerTimeoutMs,
    credentials,
  });
  const methods = new Map<string, PaymentMethod>([['paypal', paypal]]);
  const usdRates = usdRateCache();
  const callbacks: CallbackDelivery = {
    wake: () => dispatcher.wake(),
    handOffLeaseSeconds: () => dispatcher.handOffLeaseSeconds(),
    handOff: (callback) => dispatcher.handOff(callback),
  };
  const context: PlatformContext = { pool, queue, intake, callbacks, methods, config, log, now: () => new Date(), usdRates, urlSigningKey, credentials, projects: createProjectReader(pool), gatePool, gateProjects: createProjectReader(gatePool) };
  const dispatcher = new CallbackDispatcher(context, {
    slots: config.callbackConcurrency,
    pressure: intake,
    pollingIntervalMs: config.jobPollingIntervalSeconds * 1000,
    // One attempt takes at most the callback timeout, plus recording it.
    leaseSeconds: Math.ceil(config.callbackTimeoutMs / 1000) + callbackLeaseMarginSeconds,
  });

  app.setErrorHandler(gateErrorHandler(log));
  app.setNotFoundHandler(notFoundHandler);
  // The PayPal JS SDK example in the spec posts JSON without a content type.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400 }), undefined);
    }
  });
  // Security headers on every response; pages that need more set their own CSP first.
  const httpsOnly = config.publicUrl.startsWith('https://');
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    if (httpsOnly) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });
  await app.register(rateLimit, {
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    errorResponseBuilder: () => {
      const entry = errorCodes.tooManyRequests;
      return { statusCode: entry.httpStatus, status: 'error', code: entry.code, message: entry.message, request_id: newRequestId() };
    },
  });
  // Metrics, /ready, request ids in logs and jobs; then the OpenAPI document and /docs (before the routes they describe).
  await registerObservability(app, context);
  await registerApiDocumentation(app);
  app.addHook('preValidation', refuseNulCharacters);
  app.get('/health', async () => ({ status: 'ok' }));
  await app.register(gateRoutes, { context });
  await app.register(walletReturnRoutes, { context });
  // COF registration through the page is a Gate sale with `recurring`, created on the customer's choice.
  await app.register(paymentPageRoutes, { context, registerRecurring: (project, sale) => acceptNewPayment(context, project, 'paypal', 'sale', sale) });
  await app.register(paymentLinkRoutes, { context });
  await app.register(testClockRoutes, { context });
  await app.register(dataApiRoutes, { context });
  await app.register(dashboardRoutes, { context });
  await app.register(dashboardUiRoutes, {});
  await app.register(paypalWebhookRoutes, {
    context,
    settings: { sandboxWebhookId: config.sandboxWebhookId, liveWebhookId: config.paypalWebhookId, clientFor: paypal.clientFor },
  });
  await app.register(paypalSandboxPlugin, {
    prefix: '/sandbox/paypal',
    pool: sandboxPool,
    clientId: config.sandboxClientId,
    clientSecret: sandboxClientSecret,
    publicBaseUrl: config.publicSandboxUrl,
    webhookUrl: () => `${internalUrl}/v2/webhooks/paypal/sandbox`,
    webhookId: config.sandboxWebhookId,
    timeoutScenarioDelayMs: config.sandboxTimeoutScenarioDelayMs,
    pendingCompletionDelayMs: config.sandboxPendingCompletionDelayMs,
    pressure: intake,
  });

  await startWorkers(context);
  dispatcher.start();
  const emailWorker = await startEmailWorker(context);
  const scheduler = startScheduler(context, config.schedulerIntervalMs);
  await app.listen({ port: config.port, host: config.host });

  return {
    app,
    context,
    url: internalUrl,
    databaseUrl,
    async stop() {
      await app.close();
      await scheduler.stop();
      // Both wait for the work under way (at most 15 s each), within the 30 s a node has to stop.
      await Promise.all([queue.stop(), dispatcher.stop(15_000)]);
      emailWorker.close();
      await pool.end();
      await gatePool.end();
      await sandboxPool.end();
      if (embedded) await embedded.stop();
    },
  };
}

/**
 * Provider jobs run in JOB_CONCURRENCY slots per queue: each mostly waits on
 * the provider's answer, so a node runs many at once; the pool bounds what
 * they hold of PostgreSQL at any moment, one statement at a time each.
 */
async function startWorkers(context: PlatformContext): Promise<void> {
  const { queue } = context;
  const providerJobSlots = context.config.jobConcurrency;
  await queue.work<OperationJob>(queueNames.operationExecute, providerJobSlots, (job) => executeOperation(context, BigInt(job.operationId)));
  await queue.work<OperationJob>(queueNames.operationComplete, providerJobSlots, (job) => completeOperation(context, BigInt(job.operationId)));
  await queue.work<OperationJob & { pollNumber?: number }>(queueNames.operationPoll, Math.max(1, Math.floor(providerJobSlots / 4)), (job) =>
    pollOperation(context, BigInt(job.operationId), job.pollNumber ?? 0),
  );
}

/** FX rates change rarely; re-read them every 30 s rather than per request. */
function usdRateCache(): (db: Queryable) => Promise<ReadonlyMap<string, string>> {
  let cached: { at: number; rates: ReadonlyMap<string, string> } | undefined;
  return async (db) => {
    if (cached && Date.now() - cached.at < 30_000) return cached.rates;
    const { rows } = await db.query<{ quote: string; rate: string }>(`SELECT quote, rate::text AS rate FROM fx_rates WHERE base = 'USD'`);
    cached = { at: Date.now(), rates: new Map(rows.map((row) => [row.quote.trim(), row.rate])) };
    return cached.rates;
  };
}
