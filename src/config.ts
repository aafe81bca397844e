import { randomBytes } from 'node:crypto';
import { Secret } from './domain/secret.ts';

/**
 * Every setting comes from the environment; README's configuration table
 * lists them. Public URLs appear inside callbacks and redirect data, so they
 * are settings rather than guesses from the request.
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Base URL customers and merchants reach this process at. */
  publicUrl: string;
  publicGateUrl: string;
  publicSandboxUrl: string;
  /** Pool size of the application's PostgreSQL connections. */
  databasePoolSize: number;
  /** PostgreSQL connections kept for Gate requests alone, on top of `databasePoolSize` (src/gate/routes.ts). */
  gatePoolSize: number;
  /** OAuth credentials the built-in PayPal sandbox accepts (test projects use them). */
  sandboxClientId: string;
  sandboxClientSecret: string;
  sandboxWebhookId: string;
  sandboxTimeoutScenarioDelayMs: number;
  sandboxPendingCompletionDelayMs: number;
  /** PayPal live API for production projects. */
  paypalLiveBaseUrl: string;
  paypalWebhookId: string | undefined;
  providerTimeoutMs: number;
  /** Callback HTTP timeout. */
  callbackTimeoutMs: number;
  /** Callback deliveries in flight per node; a slow receiver holds one of them, never the rest. */
  callbackConcurrency: number;
  /** Provider jobs (execute, complete) in flight per queue on this node. */
  jobConcurrency: number;
  /** Gate requests in flight on a node from which its provider jobs and callbacks run one slot each until the requests have stayed few for a moment (0: never). */
  intakePriorityRequests: number;
  /** Jobs: how often idle workers poll (pg-boss minimum is 0.5 s); local sends wake workers at once. */
  jobPollingIntervalSeconds: number;
  /** A job still active this long after it started is presumed lost with its node (kill -9) and retried. */
  jobExpireSeconds: number;
  /** How often pg-boss looks for such jobs. */
  jobMaintenanceIntervalSeconds: number;
  /** Seconds between callback retries are multiplied by this (tests shrink the real schedule). */
  callbackScheduleScale: number;
  /** How often each node looks for due timers (hold expiry, thresholds, scheduled COF debits). */
  schedulerIntervalMs: number;
  /** Test projects may send callbacks to loopback/private addresses (a developer's receiver); production never. */
  testProjectsAllowPrivateUrls: boolean;
  logLevel: string;
  seedDemoProject: boolean;
  bodyLimitBytes: number;
  /** Requests per minute per client address (a flood guard, well above any honest merchant's rate). */
  rateLimitPerMinute: number;
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (rate
   * limit, audit log, Payment Page): false (none, the default), true (any),
   * or a comma-separated list of addresses/CIDRs. Fastify's `trustProxy`.
   */
  trustProxy: boolean | string;
  /** SMTP server for notification e-mails (`smtp://` or `smtps://`, credentials in the URL); unset: in-app notifications only. */
  smtpUrl: Secret | undefined;
  /** Sender of notification e-mails. */
  smtpFrom: string;
  /** How often each node sweeps PCI DSS documents for reminders that fell due (they are day-granular). */
  reminderSweepIntervalMs: number;
  /**
   * AES-256-GCM key (32 bytes, base64) that seals production projects'
   * PayPal client secrets at rest. Unset with DATABASE_URL: credentials
   * cannot be stored (7014). Unset without: a key file in DATA_DIR.
   */
  credentialsEncryptionKey: Secret | undefined;
  /** The key before the last rotation: still opens what it sealed; every node re-seals with the current key at start. */
  credentialsEncryptionKeyPrevious: Secret | undefined;
}

function trustProxySetting(raw: string | undefined): boolean | string {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  return raw === 'true' ? true : raw;
}

function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return value;
}

/** A whole-number setting of at least `minimum`; anything else stops the start with the setting's name. */
function integerAtLeast(minimum: number, name: string, fallback: number): number {
  const value = integer(name, fallback);
  if (!Number.isInteger(value) || value < minimum) throw new Error(`${name} must be a whole number of at least ${minimum}, got ${JSON.stringify(process.env[name])}`);
  return value;
}

export function loadConfig(overrides: Partial<Config> = {}): Config {
  const port = overrides.port ?? integer('PORT', 8080);
  const publicUrl = (overrides.publicUrl ?? process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, '');
  return {
    port,
    host: process.env.HOST ?? '0.0.0.0',
    dataDir: process.env.DATA_DIR ?? './.gatehouse',
    databaseUrl: process.env.DATABASE_URL || undefined,
    publicUrl,
    publicGateUrl: process.env.PUBLIC_GATE_URL ?? publicUrl,
    publicSandboxUrl: process.env.PUBLIC_SANDBOX_URL ?? `${publicUrl}/sandbox/paypal`,
    databasePoolSize: integer('DATABASE_POOL_SIZE', 16),
    gatePoolSize: integerAtLeast(1, 'GATE_POOL_SIZE', 6),
    sandboxClientId: process.env.SANDBOX_PAYPAL_CLIENT_ID ?? 'gatehouse-sandbox-client',
    sandboxClientSecret: process.env.SANDBOX_PAYPAL_CLIENT_SECRET ?? randomBytes(24).toString('base64url'),
    sandboxWebhookId: process.env.SANDBOX_PAYPAL_WEBHOOK_ID ?? 'WH-GATEHOUSE-SANDBOX',
    sandboxTimeoutScenarioDelayMs: integer('SANDBOX_TIMEOUT_SCENARIO_DELAY_MS', 15_000),
    sandboxPendingCompletionDelayMs: integer('SANDBOX_PENDING_COMPLETION_DELAY_MS', 5_000),
    paypalLiveBaseUrl: process.env.PAYPAL_LIVE_BASE_URL ?? 'https://api-m.paypal.com',
    paypalWebhookId: process.env.PAYPAL_WEBHOOK_ID || undefined,
    providerTimeoutMs: integer('PROVIDER_TIMEOUT_MS', 10_000),
    callbackTimeoutMs: integer('CALLBACK_TIMEOUT_MS', 10_000),
    callbackConcurrency: integerAtLeast(1, 'CALLBACK_CONCURRENCY', 32),
    jobConcurrency: integerAtLeast(1, 'JOB_CONCURRENCY', 16),
    intakePriorityRequests: integerAtLeast(0, 'INTAKE_PRIORITY_REQUESTS', 16),
    jobPollingIntervalSeconds: integer('JOB_POLLING_INTERVAL_SECONDS', 2),
    callbackScheduleScale: integer('CALLBACK_SCHEDULE_SCALE', 1),
    jobExpireSeconds: integer('JOB_EXPIRE_SECONDS', 60),
    jobMaintenanceIntervalSeconds: integer('JOB_MAINTENANCE_INTERVAL_SECONDS', 30),
    schedulerIntervalMs: integer('SCHEDULER_INTERVAL_MS', 1_000),
    testProjectsAllowPrivateUrls: process.env.TEST_PROJECTS_ALLOW_PRIVATE_URLS !== 'false',
    logLevel: process.env.LOG_LEVEL ?? 'info',
    seedDemoProject: process.env.SEED_DEMO_PROJECT !== 'false',
    bodyLimitBytes: integer('BODY_LIMIT_BYTES', 1_048_576),
    rateLimitPerMinute: integer('RATE_LIMIT_PER_MINUTE', 300_000),
    trustProxy: trustProxySetting(process.env.TRUST_PROXY),
    smtpUrl: process.env.SMTP_URL ? new Secret(process.env.SMTP_URL) : undefined,
    smtpFrom: process.env.SMTP_FROM || `Gatehouse <no-reply@${new URL(publicUrl).hostname}>`,
    reminderSweepIntervalMs: integer('REMINDER_SWEEP_INTERVAL_MS', 600_000),
    credentialsEncryptionKey: process.env.CREDENTIALS_ENCRYPTION_KEY ? new Secret(process.env.CREDENTIALS_ENCRYPTION_KEY) : undefined,
    credentialsEncryptionKeyPrevious: process.env.CREDENTIALS_ENCRYPTION_KEY_PREVIOUS ? new Secret(process.env.CREDENTIALS_ENCRYPTION_KEY_PREVIOUS) : undefined,
    ...overrides,
  };
}
