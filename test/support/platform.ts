import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../../src/config.ts';
import { Secret } from '../../src/domain/secret.ts';
import { freePort } from '../../src/system/os.ts';

export { freePort };
import { createLogger, startPlatform, type Platform } from '../../src/platform.ts';
import { signGateRequest } from '../../src/signature/index.ts';
import { createProject, type Project } from '../../src/store/projects.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

/**
 * A whole Gatehouse node for end-to-end tests: real PostgreSQL (a fresh
 * database), real HTTP on a free loopback port, the built-in PayPal sandbox,
 * and a local callback receiver that records what the merchant would get.
 */
export interface ReceivedCallback {
  body: Record<string, any>;
  raw: string;
  receivedAt: number;
}

export interface CallbackReceiver {
  url: string;
  callbacks: ReceivedCallback[];
  /** HTTP status to answer with; 200 by default. */
  respondWith: number;
  /** Answers after this many milliseconds. */
  delayMs: number;
  stop(): Promise<void>;
}


export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const receiver: CallbackReceiver = { url: '', callbacks: [], respondWith: 200, delayMs: 0, stop: async () => undefined };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (receiver.delayMs > 0) await sleep(receiver.delayMs);
      if (receiver.respondWith === 200) {
        try {
          receiver.callbacks.push({ body: JSON.parse(raw), raw, receivedAt: Date.now() });
        } catch {
          // recorded as nothing: a non-JSON callback would fail the test's expectations
        }
      }
      response.statusCode = receiver.respondWith;
      response.end(receiver.respondWith === 200 ? 'OK' : 'try again');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/callbacks`;
  receiver.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}

export interface TestPlatform {
  platform: Platform;
  database: TestDatabase;
  receiver: CallbackReceiver;
  project: Project;
  config: Config;
  baseUrl: string;
  /** POSTs a Gate request signed with the project's key (or `secret`). */
  gate(path: string, body: Record<string, unknown>, options?: { secret?: string; unsigned?: boolean }): Promise<{ status: number; json: any }>;
  /** Waits until a callback matching `predicate` has arrived. */
  waitForCallback(predicate: (body: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  callbacksFor(paymentId: string): Record<string, any>[];
  stop(): Promise<void>;
}

export async function startTestPlatform(overrides: Partial<Config> = {}, logger?: import('pino').Logger): Promise<TestPlatform> {
  const database = await createTestDatabase();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    port,
    host: '127.0.0.1',
    databaseUrl: database.connectionString,
    publicUrl: baseUrl,
    publicGateUrl: baseUrl,
    publicSandboxUrl: `${baseUrl}/sandbox/paypal`,
    jobPollingIntervalSeconds: 0.5,
    providerTimeoutMs: 2_000,
    sandboxTimeoutScenarioDelayMs: 3_000,
    sandboxPendingCompletionDelayMs: 500,
    callbackTimeoutMs: 2_000,
    callbackScheduleScale: 0.05,
    logLevel: 'silent',
    seedDemoProject: false,
    // As a production node has one; a test about running without it passes `credentialsEncryptionKey: undefined`.
    credentialsEncryptionKey: new Secret(randomBytes(32).toString('base64')),
    ...overrides,
  });
  const platform = await startPlatform(config, logger ?? createLogger(config.logLevel));
  const receiver = await startCallbackReceiver();
  const project = await createProject(platform.context.pool, { name: 'e2e', mode: 'test', callbackUrl: receiver.url });

  const harness: TestPlatform = {
    platform,
    database,
    receiver,
    project,
    config,
    baseUrl,
    async gate(path, body, options = {}) {
      const payload = options.unsigned ? body : signGateRequest(body, options.secret ?? project.secretKey);
      const response = await fetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
      return { status: response.status, json: await response.json() };
    },
    async waitForCallback(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = receiver.callbacks.find((callback) => predicate(callback.body));
        if (found) return found.body;
        await sleep(50);
      }
      throw new Error(`no matching callback within ${timeoutMs} ms; received: ${JSON.stringify(receiver.callbacks.map((c) => c.body))}`);
    },
    callbacksFor(paymentId) {
      return receiver.callbacks.filter((callback) => callback.body.payment?.id === paymentId).map((callback) => callback.body);
    },
    async stop() {
      await platform.stop();
      await receiver.stop();
      await database.drop();
    },
  };
  return harness;
}

/** A valid sale request body (unsigned). */
export function saleBody(projectId: bigint, paymentId: string, amount = 1000, currency = 'USD'): Record<string, any> {
  return {
    general: { project_id: Number(projectId), payment_id: paymentId },
    payment: { amount, currency, description: 'Test purchase' },
    customer: { id: 'customer-1', ip_address: '192.0.2.10', email: 'buyer@example.com' },
    return_url: { success: 'https://merchant.example/success', decline: 'https://merchant.example/decline' },
  };
}

export function authBody(projectId: bigint, paymentId: string, amount = 1000, currency = 'USD'): Record<string, any> {
  const body = saleBody(projectId, paymentId, amount, currency);
  body.return_url = { return: 'https://merchant.example/return' };
  return body;
}

/** Acts as the customer at the sandbox approval page: posts its form with `action`. Returns where the customer ends up. */
export async function actAtApprovalPage(approvalUrl: string, action: 'approve' | 'cancel'): Promise<string> {
  const page = await fetch(approvalUrl);
  if (page.status !== 200) throw new Error(`approval page answered ${page.status}`);
  const response = await fetch(approvalUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action }).toString(),
    redirect: 'manual',
  });
  const walletReturn = response.headers.get('location');
  if (!walletReturn) throw new Error(`approval form answered ${response.status} without a redirect`);
  // Follow our own return endpoint once; it redirects to the merchant.
  const back = await fetch(walletReturn, { redirect: 'manual' });
  return back.headers.get('location') ?? `status ${back.status}`;
}

/**
 * Stands in for PayPal's live API and refuses every call as PayPal does with
 * wrong credentials (401 invalid_client): production projects must go there,
 * never to the sandbox. `onRequest` sees each request.
 */
export async function startRefusingPaypalLive(onRequest: (request: IncomingMessage) => void): Promise<{ url: string; close(): void }> {
  const live = createServer((request, response) => {
    onRequest(request);
    request.resume();
    response.statusCode = 401;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ error: 'invalid_client', error_description: 'Client Authentication failed' }));
  });
  await new Promise<void>((resolve) => live.listen(0, '127.0.0.1', resolve));
  const address = live.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, close: () => live.close() };
}
