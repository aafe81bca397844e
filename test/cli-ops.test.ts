import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { findProject } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * The operator commands added for running a platform (`npm run gatehouse --
 * ...`), each run as a separate process against a running node's database:
 * per-command help, key rotation with an overlap, FX rates, callback replay,
 * the OpenAPI document.
 */
const run = promisify(execFile);
let gh: TestPlatform;

before(async () => {
  gh = await startTestPlatform();
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

function cli(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, DATABASE_URL: gh.database.connectionString, PUBLIC_URL: gh.baseUrl },
    maxBuffer: 8 * 1024 * 1024,
  });
}

async function usageFailure(args: string[], message: RegExp): Promise<void> {
  await assert.rejects(cli(args), (error: { code: number; stderr: string }) => {
    assert.equal(error.code, 2, error.stderr);
    assert.match(error.stderr, message);
    return true;
  });
}

test('--help answers for each command and action with that command only', async () => {
  const project = (await cli(['project', '--help'])).stdout;
  assert.match(project, /^Usage: gatehouse project/);
  assert.match(project, /project create --name/);
  assert.match(project, /project rotate-key --project N \[--overlap-seconds S\]/);
  assert.doesNotMatch(project, /fx set|sign --secret/);

  const fxSet = (await cli(['fx', 'set', '--help'])).stdout;
  assert.match(fxSet, /fx set --currency EUR --rate 0\.86/);
  assert.doesNotMatch(fxSet, /fx list/);

  const commands = [['sign'], ['clock', 'advance'], ['callback'], ['openapi']];
  const helps = await Promise.all(commands.map(async (command) => (await cli([...command, '--help'])).stdout));
  commands.forEach((command, index) => {
    assert.match(helps[index], new RegExp(`^Usage: gatehouse ${command.join(' ')}`), command.join(' '));
    assert.match(helps[index], new RegExp(`\\n  ${command.join(' ')}`), command.join(' '));
  });
});

test('project rotate-key: the new key works at once, the previous one only within the overlap', async () => {
  const projectId = String(gh.project.id);
  const originalKey = gh.project.secretKey;
  const statusWith = async (secret: string) => (await gh.gate('/v2/payment/status', { general: { project_id: Number(projectId), payment_id: 'none' } }, { secret })).json.code;

  const rotated = JSON.parse((await cli(['project', 'rotate-key', '--project', projectId, '--overlap-seconds', '3600', '--json'])).stdout);
  assert.equal(rotated.project_id, Number(projectId));
  assert.notEqual(rotated.secret_key, originalKey);
  assert.ok(Date.parse(rotated.previous_key_valid_until) > Date.now() + 3_500_000);
  assert.equal(await statusWith(rotated.secret_key), '3061', 'the new key verifies');
  assert.equal(await statusWith(originalKey), '3061', 'the previous key still verifies during the overlap');

  const again = JSON.parse((await cli(['project', 'rotate-key', '--project', projectId, '--overlap-seconds', '0', '--json'])).stdout);
  assert.equal(await statusWith(again.secret_key), '3061');
  assert.equal(await statusWith(rotated.secret_key), '3261', 'no overlap: the previous key is refused at once');
  assert.equal(await statusWith(originalKey), '3261');
  assert.equal((await findProject(gh.platform.context.pool, gh.project.id))?.secretKey, again.secret_key);
  gh.project.secretKey = again.secret_key;

  await usageFailure(['project', 'rotate-key', '--project', '999999'], /no project 999999/);
  await usageFailure(['project', 'rotate-key', '--project', projectId, '--overlap-seconds', '-5'], /--overlap-seconds/);
});

test('fx set and fx list: units per 1 USD, validated', async () => {
  assert.match((await cli(['fx', 'set', '--currency', 'EUR', '--rate', '0.9100'])).stdout, /EUR = 0\.91 per 1 USD/);
  const rates = JSON.parse((await cli(['fx', 'list', '--json'])).stdout) as { currency: string; rate: string }[];
  assert.equal(rates.find((row) => row.currency === 'EUR')?.rate, '0.91');
  assert.equal(rates.find((row) => row.currency === 'USD')?.rate, '1');
  await usageFailure(['fx', 'set', '--currency', 'eur', '--rate', '1'], /--currency/);
  await usageFailure(['fx', 'set', '--currency', 'GBP', '--rate', '0'], /--rate/);
});

test('callback replay: a failed callback goes back to pending and a running node delivers it again', async () => {
  const paymentId = `replay-${Date.now()}`;
  assert.equal((await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId))).status, 200);
  await gh.waitForCallback((callback) => callback.payment.id === paymentId);
  const { rows } = await gh.platform.context.pool.query<{ id: bigint }>(
    `SELECT c.id FROM callbacks c JOIN payments p ON p.id = c.payment_ref WHERE p.payment_id = $1`,
    [paymentId],
  );
  const callbackId = String(rows[0].id);
  // The receiver sees a callback before the platform records its answer: wait for the record.
  assert.equal((await callbackRowOnceSettled(callbackId)).attempts, 1);
  // As if every attempt had failed: the callback gave up.
  await gh.platform.context.pool.query(`UPDATE callbacks SET status = 'failed' WHERE id = $1`, [callbackId]);

  const replayed = JSON.parse((await cli(['callback', 'replay', '--callback-id', callbackId])).stdout);
  assert.equal(replayed.previous_status, 'failed');
  assert.equal(replayed.status, 'pending');
  const deadline = Date.now() + 15_000;
  while (gh.callbacksFor(paymentId).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const [first, second] = gh.callbacksFor(paymentId);
  assert.deepEqual(second, first, 'the same signed callback arrives again');
  const after = await callbackRowOnceSettled(callbackId);
  assert.equal(after.status, 'delivered');
  assert.equal(after.attempts, 2, 'the replay is one more attempt in the delivery log');

  await usageFailure(['callback', 'replay', '--callback-id', '987654321'], /no callback 987654321/);
  await usageFailure(['callback', 'replay'], /--callback-id/);
});

/** The callback's row once it is no longer pending (or after 15 s, as it then is). */
async function callbackRowOnceSettled(callbackId: string): Promise<{ status: string; attempts: number }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { rows } = await gh.platform.context.pool.query<{ status: string; attempts: number }>('SELECT status, attempts FROM callbacks WHERE id = $1', [callbackId]);
    if (rows[0].status !== 'pending' || Date.now() > deadline) return rows[0];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('openapi prints the document that openapi.json holds', async () => {
  const { stdout } = await cli(['openapi']);
  assert.equal(stdout, readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));
});
