import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pino from 'pino';
import { createMerchant, createMerchantProject } from '../src/accounts/merchants.ts';
import { createUser } from '../src/accounts/users.ts';
import { loadConfig } from '../src/config.ts';
import { DashboardClient, type DashboardResponse } from '../src/dashboard/client.ts';
import { Secret } from '../src/domain/secret.ts';
import { redactedPaths, startPlatform, type Platform } from '../src/platform.ts';
import { CredentialCipher, credentialKeysFor, credentialsKeyFileName, paypalSecretContext } from '../src/security/credentials.ts';
import { signGateRequest } from '../src/signature/index.ts';
import type { Project } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { freePort, saleBody, startRefusingPaypalLive, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * Production projects' PayPal credentials: set by an operator (console or
 * CLI), stored sealed with CREDENTIALS_ENCRYPTION_KEY, never answered,
 * logged or audited in full, opened only by the connector, re-sealed after
 * a key rotation, and refused (never stored in plain text) without a key.
 */
const run = promisify(execFile);
const password = 'correct horse battery staple';
const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');
/** Every secret this file hands over: none may appear in an answer, a log line, the audit log or a column in plain text. */
const secrets: string[] = [];
const answers: string[] = [];
const logLines: string[] = [];

function newSecret(label: string): string {
  const secret = `EJ-${label}-${randomBytes(16).toString('hex')}`;
  secrets.push(secret);
  return secret;
}

/** Stands in for PayPal's live API: records who asked for a token, and refuses it (the test stops there). */
const tokenRequests: { authorization: string }[] = [];
let liveUrl = '';
let closeLive: () => void = () => undefined;

function loggerInto(lines: string[]) {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return pino({ level: 'debug', redact: { paths: redactedPaths, censor: '***' } }, sink);
}

let gh: TestPlatform;
let operator: DashboardClient;
let merchantAdmin: DashboardClient;
let merchantId: bigint;

before(async () => {
  const live = await startRefusingPaypalLive((request) => {
    if (request.url === '/v1/oauth2/token') tokenRequests.push({ authorization: String(request.headers.authorization ?? '') });
  });
  liveUrl = live.url;
  closeLive = live.close;
  gh = await startTestPlatform({ paypalLiveBaseUrl: liveUrl, logLevel: 'debug', credentialsEncryptionKey: new Secret(keyA) }, loggerInto(logLines));
  const pool = gh.platform.context.pool;
  await createUser(pool, { email: 'ops@gatehouse.example', role: 'operator', merchantId: null, password });
  operator = recording(new DashboardClient(gh.baseUrl));
  assert.equal((await operator.signIn('ops@gatehouse.example', password)).status, 200);
  const merchant = await createMerchant(pool, 'Live Shop Ltd');
  merchantId = merchant.id;
  await createUser(pool, { email: 'admin@live.example', role: 'merchant_admin', merchantId, password });
  merchantAdmin = recording(new DashboardClient(gh.baseUrl));
  assert.equal((await merchantAdmin.signIn('admin@live.example', password)).status, 200);
});

after(async () => {
  await gh?.stop();
  closeLive();
  await stopTestServer();
});

/** Keeps every answer's text, to scan it for secrets at the end. */
function recording(client: DashboardClient): DashboardClient {
  const request = client.request.bind(client);
  client.request = async (...args: Parameters<DashboardClient['request']>): Promise<DashboardResponse> => {
    const response = await request(...args);
    answers.push(response.text);
    return response;
  };
  return client;
}

/** A production project of the merchant whose onboarding is `ready` with every right (the operator API), without credentials. */
async function readyProduction(): Promise<Project> {
  const project = await createMerchantProject(gh.platform.context.pool, merchantId, { name: `live-${Date.now()}`, mode: 'production', callbackUrl: null });
  for (const state of ['requested', 'link_sent', 'rights_granted', 'set_up', 'ready']) {
    const moved = await operator.post(`/operator/projects/${project.id}/paypal-onboarding`, {
      state,
      ...(state === 'rights_granted' ? { paypal_merchant_id: 'LIVEMERCHANT1', permissions: ['purchases_refunds', 'payouts'] } : {}),
    });
    assert.equal(moved.status, 200, moved.text);
  }
  return project;
}

function setCredentials(client: DashboardClient, project: Project | bigint, body: Record<string, unknown>) {
  const id = typeof project === 'bigint' ? project : project.id;
  return client.put(`/operator/projects/${id}/paypal-credentials`, body);
}

async function storedColumns(projectId: bigint) {
  const { rows } = await gh.platform.context.pool.query(
    'SELECT paypal_client_id, paypal_client_secret, paypal_client_secret_sealed, paypal_client_secret_last4 FROM projects WHERE id = $1',
    [String(projectId)],
  );
  return rows[0] as { paypal_client_id: string | null; paypal_client_secret: string | null; paypal_client_secret_sealed: string | null; paypal_client_secret_last4: string | null };
}

async function gateSale(baseUrl: string, project: Project, paymentId: string) {
  const body = saleBody(project.id, paymentId);
  body.return_url = { success: 'https://shop.example/ok', decline: 'https://shop.example/no' };
  const response = await fetch(`${baseUrl}/v2/payment/wallet/paypal/sale`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signGateRequest(body, project.secretKey)),
  });
  const text = await response.text();
  answers.push(text);
  return { status: response.status, json: JSON.parse(text) };
}

function basicAuthorization(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
}

async function waitForToken(authorization: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!tokenRequests.some((request) => request.authorization === authorization) && Date.now() < deadline) await sleep(50);
  assert.ok(
    tokenRequests.some((request) => request.authorization === authorization),
    `PayPal live got a token request with the decrypted credentials (got ${tokenRequests.length} token requests)`,
  );
}

function cli(args: string[], input: string, env: Record<string, string | undefined>) {
  const childEnv: Record<string, string | undefined> = { ...process.env, CREDENTIALS_ENCRYPTION_KEY: undefined, CREDENTIALS_ENCRYPTION_KEY_PREVIOUS: undefined, ...env };
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  const child = run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: childEnv as NodeJS.ProcessEnv });
  child.child.stdin!.end(input);
  return child;
}

describe('sealing', () => {
  test('AES-256-GCM with the key id in the value: the previous key opens what it sealed, a moved or altered value does not open', () => {
    const plain = new Secret('EJ-unit-secret-value');
    const sealedA = new CredentialCipher({ current: new Secret(keyA) }).seal(plain, paypalSecretContext(1001n));
    assert.match(sealedA, /^v1\.[0-9a-f]{16}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(!sealedA.includes('unit-secret'));
    const rotated = new CredentialCipher({ current: new Secret(keyB), previous: new Secret(keyA) });
    assert.equal(rotated.open(sealedA, paypalSecretContext(1001n)).reveal(), 'EJ-unit-secret-value');
    assert.equal(rotated.sealedWithOlderKey(sealedA), true);
    assert.throws(() => new CredentialCipher({ current: new Secret(keyB) }).open(sealedA, paypalSecretContext(1001n)), /neither CREDENTIALS_ENCRYPTION_KEY/);
    assert.throws(() => rotated.open(sealedA, paypalSecretContext(1002n)), /does not decrypt/, "another project's row");
    const parts = sealedA.split('.');
    const altered = Buffer.from(parts[3], 'base64url');
    altered[0] ^= 1;
    parts[3] = altered.toString('base64url');
    assert.throws(() => rotated.open(parts.join('.'), paypalSecretContext(1001n)), /does not decrypt/);
    assert.throws(() => new CredentialCipher({}).seal(plain, 'x'), /CREDENTIALS_ENCRYPTION_KEY is not set/);
    assert.throws(() => new CredentialCipher({ current: new Secret('too-short') }), /32 random bytes in base64/);
  });

  test('the embedded default makes its key in DATA_DIR (mode 0600) and keeps it; a DATABASE_URL node gets none unless configured', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-key-'));
    try {
      const first = credentialKeysFor({ databaseUrl: undefined, dataDir });
      const path = join(dataDir, credentialsKeyFileName);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      chmodSync(path, 0o644);
      const second = credentialKeysFor({ databaseUrl: undefined, dataDir });
      assert.equal(second.current!.reveal(), first.current!.reveal(), 'the same key on the next start');
      assert.equal(statSync(path).mode & 0o777, 0o600, 'loosened permissions are tightened again');
      assert.equal(new CredentialCipher(first).canSeal, true);
      assert.equal(credentialKeysFor({ databaseUrl: 'postgres://db/gatehouse', dataDir }).current, undefined);
      assert.equal(credentialKeysFor({ databaseUrl: 'postgres://db/gatehouse', dataDir, credentialsEncryptionKey: new Secret(keyA) }).current!.reveal(), keyA);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('operator console', () => {
  test('setting credentials answers and shows the client id and last 4 only; the column and the audit entry hold no plain secret', async () => {
    const project = await readyProduction();
    const secret = newSecret('console');
    const set = await setCredentials(operator, project, { client_id: 'AYconsole-client', client_secret: secret });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.json, {
      project_id: Number(project.id),
      paypal_credentials: { client_id: 'AYconsole-client', client_secret_last4: secret.slice(-4), updated_at: set.json.paypal_credentials.updated_at },
    });
    const read = await operator.get(`/operator/projects/${project.id}/paypal-credentials`);
    assert.deepEqual(read.json, set.json);

    const stored = await storedColumns(project.id);
    assert.equal(stored.paypal_client_secret, null, 'nothing in the plain-text column');
    assert.match(stored.paypal_client_secret_sealed!, /^v1\./);
    assert.ok(!stored.paypal_client_secret_sealed!.includes(secret) && !stored.paypal_client_secret_sealed!.includes(secret.slice(3, 20)));
    assert.equal(new CredentialCipher({ current: new Secret(keyA) }).open(stored.paypal_client_secret_sealed!, paypalSecretContext(project.id)).reveal(), secret);

    const audit = await operator.get('/operator/audit-log');
    const entry = audit.json.entries.find((candidate: any) => candidate.action === 'paypal_credentials.set' && candidate.target_id === String(project.id));
    assert.deepEqual(entry.details, { client_id: 'AYconsole-client', client_secret_last4: secret.slice(-4) });
    assert.equal(entry.outcome, 'success');

    // Replacing them: the new secret, sealed anew; reads follow.
    const replacement = newSecret('replacement');
    assert.equal((await setCredentials(operator, project, { client_id: 'AYconsole-client-2', client_secret: replacement })).status, 200);
    assert.equal((await operator.get(`/operator/projects/${project.id}/paypal-credentials`)).json.paypal_credentials.client_secret_last4, replacement.slice(-4));
  });

  test('test projects (7015), bad values (2005) and merchants (7005) are refused, with nothing stored', async () => {
    const refusedSecret = newSecret('refused');
    const testProject = await setCredentials(operator, gh.project, { client_id: 'AYtest', client_secret: refusedSecret });
    assert.equal(testProject.status, 409, testProject.text);
    assert.equal(testProject.json.code, '7015');
    const project = await readyProduction();
    const tooShort = await setCredentials(operator, project, { client_id: 'AYshort', client_secret: 'short' });
    assert.equal(tooShort.json.code, '2005', tooShort.text);
    const spaced = await setCredentials(operator, project, { client_id: 'AY with spaces', client_secret: refusedSecret });
    assert.equal(spaced.json.code, '2005', spaced.text);
    const merchant = await setCredentials(merchantAdmin, project, { client_id: 'AYmerchant', client_secret: refusedSecret });
    assert.equal(merchant.status, 403);
    assert.deepEqual(await storedColumns(project.id), { paypal_client_id: null, paypal_client_secret: null, paypal_client_secret_sealed: null, paypal_client_secret_last4: null });
    const audit = await operator.get('/operator/audit-log');
    const failure = audit.json.entries.find((candidate: any) => candidate.action === 'paypal_credentials.set' && candidate.outcome === 'failure');
    assert.deepEqual(failure.details, { client_id: 'AYtest', client_secret_last4: refusedSecret.slice(-4), code: '7015' });
  });
});

describe('Gate, the Dashboard and the connector', () => {
  test('without credentials Gate and a Dashboard payout both refuse with 3029; with them the connector reaches PayPal live with the decrypted secret', async () => {
    const project = await readyProduction();
    const gateRefusal = await gateSale(gh.baseUrl, project, `no-credentials-${Date.now()}`);
    assert.equal(gateRefusal.json.code, '3029', JSON.stringify(gateRefusal.json));
    const payout = { payment_id: `dash-payout-${Date.now()}`, amount: 500, currency: 'USD', account_number: 'payee@example.com', customer_id: 'c1' };
    const dashboardRefusal = await merchantAdmin.post(`/projects/${project.id}/payouts`, payout);
    assert.equal(dashboardRefusal.json.code, '3029', dashboardRefusal.text);
    assert.match(dashboardRefusal.json.message, /no PayPal credentials/);
    const upload = await merchantAdmin.post(`/projects/${project.id}/mass-payouts`, undefined, { rawBody: 'payment_id,amount,currency,account_number,customer_id\nm-1,1.00,USD,a@example.com,c\n' });
    assert.equal(upload.json.code, '3029', upload.text);
    const { rows } = await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments WHERE project_id = $1', [String(project.id)]);
    assert.equal(rows[0].n, 0);

    const secret = newSecret('connector');
    assert.equal((await setCredentials(operator, project, { client_id: 'AYconnector', client_secret: secret })).status, 200);
    const accepted = await gateSale(gh.baseUrl, project, `with-credentials-${Date.now()}`);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
    await waitForToken(basicAuthorization('AYconnector', secret));
    assert.equal((await merchantAdmin.post(`/projects/${project.id}/payouts`, payout)).status, 200);
  });
});

describe('CLI', () => {
  test('project set-paypal-credentials reads the secret on stdin, prints the last 4 only, seals it with the nodes\' key', async () => {
    const project = await readyProduction();
    const secret = newSecret('cli');
    const databaseUrl = gh.database.connectionString;
    const { stdout, stderr } = await cli(['project', 'set-paypal-credentials', '--project', String(project.id), '--client-id', 'AYcli-client'], `${secret}\n`, {
      DATABASE_URL: databaseUrl,
      CREDENTIALS_ENCRYPTION_KEY: keyA,
    });
    answers.push(stdout, stderr);
    const printed = JSON.parse(stdout);
    assert.deepEqual({ ...printed, updated_at: undefined }, { project_id: Number(project.id), client_id: 'AYcli-client', client_secret_last4: secret.slice(-4), updated_at: undefined });
    const stored = await storedColumns(project.id);
    assert.equal(stored.paypal_client_secret, null);
    assert.equal(new CredentialCipher({ current: new Secret(keyA) }).open(stored.paypal_client_secret_sealed!, paypalSecretContext(project.id)).reveal(), secret);
    assert.equal((await operator.get(`/operator/projects/${project.id}/paypal-credentials`)).json.paypal_credentials.client_id, 'AYcli-client');
    const accepted = await gateSale(gh.baseUrl, project, `cli-credentials-${Date.now()}`);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
    await waitForToken(basicAuthorization('AYcli-client', secret));

    // Another key than the nodes' would store a secret no node can open.
    await assert.rejects(
      cli(['project', 'set-paypal-credentials', '--project', String(project.id), '--client-id', 'AYother'], newSecret('foreign'), { DATABASE_URL: databaseUrl, CREDENTIALS_ENCRYPTION_KEY: keyB }),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /not the key the nodes use/);
        return true;
      },
    );
    assert.equal((await storedColumns(project.id)).paypal_client_id, 'AYcli-client');
  });
});

describe('key rotation', () => {
  let rotatedNode: Platform | undefined;
  const rotatedLogLines: string[] = [];
  after(async () => {
    await rotatedNode?.stop();
  });

  test('a node started with a new key (the old one as previous) re-seals every secret, also plain ones of old, and reaches PayPal with them', async () => {
    const project = await readyProduction();
    const secret = newSecret('rotation');
    assert.equal((await setCredentials(operator, project, { client_id: 'AYrotation', client_secret: secret })).status, 200);
    // A secret stored in plain text before encryption at rest (by SQL, the only way then).
    const legacy = await readyProduction();
    const legacySecret = newSecret('legacy');
    await gh.platform.context.pool.query(`UPDATE projects SET paypal_client_id = 'AYlegacy', paypal_client_secret = $2 WHERE id = $1`, [String(legacy.id), legacySecret]);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      port,
      host: '127.0.0.1',
      databaseUrl: gh.database.connectionString,
      publicUrl: url,
      paypalLiveBaseUrl: liveUrl,
      jobPollingIntervalSeconds: 0.5,
      providerTimeoutMs: 2_000,
      logLevel: 'debug',
      seedDemoProject: false,
      credentialsEncryptionKey: new Secret(keyB),
      credentialsEncryptionKeyPrevious: new Secret(keyA),
    });
    rotatedNode = await startPlatform(config, loggerInto(rotatedLogLines));

    const onlyB = new CredentialCipher({ current: new Secret(keyB) });
    const onlyA = new CredentialCipher({ current: new Secret(keyA) });
    const rotated = await storedColumns(project.id);
    assert.equal(onlyB.open(rotated.paypal_client_secret_sealed!, paypalSecretContext(project.id)).reveal(), secret, 'sealed with the new key');
    assert.equal(onlyA.canOpen(rotated.paypal_client_secret_sealed!), false, 'the old key no longer opens it');
    assert.equal(rotated.paypal_client_secret_last4, secret.slice(-4));
    const sealedLegacy = await storedColumns(legacy.id);
    assert.equal(sealedLegacy.paypal_client_secret, null, 'the plain-text secret of old is gone');
    assert.equal(onlyB.open(sealedLegacy.paypal_client_secret_sealed!, paypalSecretContext(legacy.id)).reveal(), legacySecret);
    assert.equal(sealedLegacy.paypal_client_secret_last4, legacySecret.slice(-4));
    const { rows } = await gh.platform.context.pool.query(`SELECT count(*)::int AS n FROM projects WHERE paypal_client_secret IS NOT NULL`);
    assert.equal(rows[0].n, 0, 'no plain-text secret left anywhere');

    const accepted = await gateSale(url, project, `rotated-${Date.now()}`);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
    await waitForToken(basicAuthorization('AYrotation', secret));
    const acceptedLegacy = await gateSale(url, legacy, `legacy-${Date.now()}`);
    assert.equal(acceptedLegacy.status, 200, JSON.stringify(acceptedLegacy.json));
    await waitForToken(basicAuthorization('AYlegacy', legacySecret));
    // Writes seal with the new key.
    const again = newSecret('after-rotation');
    const rotatedOperator = recording(new DashboardClient(url));
    assert.equal((await rotatedOperator.signIn('ops@gatehouse.example', password)).status, 200);
    assert.equal((await setCredentials(rotatedOperator, project, { client_id: 'AYrotation', client_secret: again })).status, 200);
    assert.equal(onlyB.open((await storedColumns(project.id)).paypal_client_secret_sealed!, paypalSecretContext(project.id)).reveal(), again);
    logLines.push(...rotatedLogLines);
  });
});

describe('without a key', () => {
  let keyless: TestPlatform | undefined;
  after(async () => {
    await keyless?.stop();
  });

  test('a DATABASE_URL node without CREDENTIALS_ENCRYPTION_KEY refuses to store credentials (503, 7014), and so does the CLI', async () => {
    keyless = await startTestPlatform({ credentialsEncryptionKey: undefined });
    const pool = keyless.platform.context.pool;
    await createUser(pool, { email: 'ops@keyless.example', role: 'operator', merchantId: null, password });
    const keylessOperator = recording(new DashboardClient(keyless.baseUrl));
    assert.equal((await keylessOperator.signIn('ops@keyless.example', password)).status, 200);
    const merchant = await createMerchant(pool, 'Keyless Ltd');
    const project = await createMerchantProject(pool, merchant.id, { name: 'keyless', mode: 'production', callbackUrl: null });
    const refused = await setCredentials(keylessOperator, project, { client_id: 'AYkeyless', client_secret: newSecret('keyless') });
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json.code, '7014');
    assert.match(refused.json.message, /CREDENTIALS_ENCRYPTION_KEY/);
    await assert.rejects(
      cli(['project', 'set-paypal-credentials', '--project', String(project.id), '--client-id', 'AYkeyless'], newSecret('keyless-cli'), { DATABASE_URL: keyless.database.connectionString }),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /CREDENTIALS_ENCRYPTION_KEY is not set: the PayPal client secret is never stored in plain text/);
        return true;
      },
    );
    const { rows } = await pool.query('SELECT paypal_client_id, paypal_client_secret, paypal_client_secret_sealed FROM projects WHERE id = $1', [String(project.id)]);
    assert.deepEqual(rows[0], { paypal_client_id: null, paypal_client_secret: null, paypal_client_secret_sealed: null });
  });
});

describe('leaks', () => {
  test('no secret appears in any answer or log line', () => {
    assert.ok(secrets.length >= 8 && answers.length > 20 && logLines.length > 0, `${secrets.length} secrets, ${answers.length} answers, ${logLines.length} log lines`);
    const everything = `${answers.join('\n')}\n${logLines.join('\n')}`;
    for (const secret of secrets) {
      assert.equal(everything.includes(secret), false, `secret ${secret.slice(0, 12)}… leaked`);
      assert.equal(everything.includes(Buffer.from(secret).toString('base64').slice(0, 24)), false, 'nor in base64 (an Authorization header)');
    }
  });
});
