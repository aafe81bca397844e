import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, isProcessAlive } from '../src/system/os.ts';

/**
 * `npm start` as a newcomer runs it: embedded PostgreSQL in DATA_DIR, a demo
 * test project with a ready-to-paste signed curl; a `kill -9` leaves an
 * orphaned PostgreSQL that the next start stops and replaces; SIGTERM stops
 * everything, the embedded server included.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-start-'));
const running: ChildProcess[] = [];

after(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const pid = postmasterPid();
  if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGINT');
  rmSync(dataDir, { recursive: true, force: true });
});

function postmasterPid(): number | undefined {
  const file = join(dataDir, 'pg', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}


async function start(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Try a signed sale') && Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited: ${output}`);
    await sleep(100);
  }
  await sleep(200);
  return { child, output: () => output };
}

test('npm start: demo project and a curl that works; survives kill -9; stops cleanly on SIGTERM', async () => {
  const port = await freePort();
  const first = await start(port);
  const banner = first.output();
  const projectId = /project_id=(\d+)/.exec(banner)?.[1];
  assert.ok(projectId, banner);
  assert.match(banner, /secret_key=\S{20,}/);
  const curl = /curl -s -X POST (\S+) -H 'content-type: application\/json' -d '(.+)'/.exec(banner);
  assert.ok(curl, 'the banner has a ready-to-paste curl');
  const response = await fetch(curl[1], { method: 'POST', headers: { 'content-type': 'application/json' }, body: curl[2] });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).status, 'success');

  first.child.kill('SIGKILL');
  await sleep(500);
  const orphan = postmasterPid();
  assert.ok(orphan && isProcessAlive(orphan), 'PostgreSQL outlives a kill -9 of Node');

  const second = await start(port);
  assert.match(second.output(), new RegExp(`project_id=${projectId} `), 'the same demo project, from the same data folder');
  assert.equal(isProcessAlive(orphan!), false, 'the orphan was stopped');
  const replacement = postmasterPid();
  assert.ok(replacement && isProcessAlive(replacement));

  second.child.kill('SIGTERM');
  const exitCode = await new Promise<number | null>((resolve) => second.child.on('exit', (code) => resolve(code)));
  assert.equal(exitCode, 0);
  await sleep(300);
  assert.equal(isProcessAlive(replacement!), false, 'SIGTERM stops the embedded PostgreSQL too');
});
