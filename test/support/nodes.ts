import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './platform.ts';

/**
 * A real Gatehouse process (`src/main.ts`) on a given database, for tests
 * and figures that need several nodes or a `kill -9`. Every child started here
 * is listed in `children` so the caller can kill what is left.
 */
export interface Node {
  child: ChildProcess;
  url: string;
}

export async function startNode(connectionString: string, children: ChildProcess[], env: Record<string, string> = {}): Promise<Node> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: connectionString,
      PORT: String(port),
      HOST: '127.0.0.1',
      SEED_DEMO_PROJECT: 'false',
      LOG_LEVEL: 'error',
      JOB_EXPIRE_SECONDS: '4',
      JOB_MAINTENANCE_INTERVAL_SECONDS: '1',
      PROVIDER_TIMEOUT_MS: '1000',
      JOB_POLLING_INTERVAL_SECONDS: '0.5',
      RATE_LIMIT_PER_MINUTE: '100000000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await fetch(`${url}/health`).then((response) => response.ok).catch(() => false)) return { child, url };
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error('node did not start');
}

export function killAll(children: ChildProcess[]): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
