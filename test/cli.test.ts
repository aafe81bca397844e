import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyGateRequest } from '../src/signature/index.ts';
import { findProject } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/** The operator CLI against a running node's database, as `npm run gatehouse -- ...` runs it. */
const run = promisify(execFile);
let gh: TestPlatform;

before(async () => {
  gh = await startTestPlatform();
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

function cli(args: string[], input?: string) {
  const child = run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, DATABASE_URL: gh.database.connectionString, PUBLIC_URL: gh.baseUrl },
  });
  if (input !== undefined) {
    child.child.stdin!.end(input);
  }
  return child;
}

test('project create --json prints project_id and secret_key of a project the server accepts requests for', async () => {
  const { stdout } = await cli(['project', 'create', '--name', 'CLI shop', '--mode', 'test', '--callback-url', 'https://shop.example/cb', '--json']);
  const created = JSON.parse(stdout);
  assert.deepEqual(Object.keys(created).sort(), ['project_id', 'secret_key']);
  const project = await findProject(gh.platform.context.pool, created.project_id);
  assert.equal(project?.name, 'CLI shop');
  assert.equal(project?.callbackUrl, 'https://shop.example/cb');
  assert.equal(project?.secretKey, created.secret_key);
  const list = JSON.parse((await cli(['project', 'list', '--json'])).stdout);
  assert.ok(list.some((row: { project_id: number; mode: string }) => row.project_id === created.project_id && row.mode === 'test'));
});

test('sign reads a Gate request on stdin and prints it signed', async () => {
  const { stdout } = await cli(['sign', '--secret', 's3cret'], JSON.stringify({ general: { project_id: 1, payment_id: 'p' } }));
  const signed = JSON.parse(stdout);
  assert.equal(verifyGateRequest(signed, ['s3cret']), 'ok');
  assert.equal(verifyGateRequest(signed, ['other']), 'invalid');
});

test('bad arguments exit 2 with usage; clock advance moves a test project clock through the server', async () => {
  await assert.rejects(cli(['project', 'create', '--name', 'x', '--mode', 'staging']), (error: { code: number; stderr: string }) => {
    assert.equal(error.code, 2);
    assert.match(error.stderr, /--mode must be test or production/);
    return true;
  });
  const shown = JSON.parse((await cli(['clock', 'advance', '--project', String(gh.project.id), '--to', '2030-01-01T00:00:00Z'])).stdout);
  assert.equal(shown.test_clock, '2030-01-01T00:00:00.000Z');
  const advanced = JSON.parse((await cli(['clock', 'advance', '--project', String(gh.project.id), '--by', '2d'])).stdout);
  assert.equal(advanced.test_clock, '2030-01-03T00:00:00.000Z');
});

test('export payments streams a CSV report with progress on stderr', async () => {
  const paymentId = `cli-export-${Date.now()}`;
  assert.equal((await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId))).status, 200);
  const file = join(tmpdir(), `gatehouse-export-${process.pid}.csv`);
  try {
    const { stderr } = await cli(['export', 'payments', '--project', String(gh.project.id), '--output', file]);
    const csv = readFileSync(file, 'utf8').trim().split('\n');
    assert.ok(csv.length >= 2, 'a header and at least one row');
    assert.ok(csv.some((line) => line.includes(paymentId)), 'the payment is in the report');
    assert.match(stderr, /export: \d+ rows written/);
  } finally {
    rmSync(file, { force: true });
  }
  await assert.rejects(cli(['export', 'refunds', '--project', '1']), (error: { code: number }) => error.code === 2);
});
