import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The platform under test, as its own process, started the way `npm start`
 * starts it: `node [the start script's Node flags] --import tsx src/main.ts`,
 * which is what `tsx src/main.ts` runs, without tsx's wrapper process, so the
 * pid we sample is the platform itself. Its resident memory is sampled from
 * /proc/<pid>/status; VmHWM is the kernel's own high-water mark, so the peak
 * is exact even between samples.
 */
export interface PlatformProcess {
  pid: number;
  url: string;
  logFile: string;
  /** Highest VmHWM seen, in MiB. */
  peakRssMebibytes(): number;
  /** Current VmRSS, in MiB. */
  rssMebibytes(): number;
  /** SIGTERM, wait for the orderly exit (bounded), SIGKILL otherwise. Returns the exit code. */
  stop(): Promise<number | null>;
}

export interface PlatformProcessOptions {
  repositoryRoot: string;
  port: number;
  databaseUrl: string;
  workDir: string;
  /** Directory for `--cpu-prof` output; no profiling when undefined. */
  cpuProfileDir?: string;
  startTimeoutMs: number;
}

const stopTimeoutMs = 40_000;
const rssSampleIntervalMs = 200;

export async function startPlatformProcess(options: PlatformProcessOptions): Promise<PlatformProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const logFile = join(options.workDir, 'platform.log');
  const log = createWriteStream(logFile);
  const profileFlags = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const nodeFlags = startScriptNodeFlags(options.repositoryRoot);
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, ...profileFlags, '--import', 'tsx', 'src/main.ts'], {
    cwd: options.repositoryRoot,
    env: {
      ...process.env,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      DATABASE_URL: options.databaseUrl,
      SEED_DEMO_PROJECT: 'false',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exited = code))));
  const pid = child.pid!;

  let peakKibibytes = 0;
  let currentKibibytes = 0;
  const sample = () => {
    const status = readStatus(pid);
    if (!status) return;
    currentKibibytes = status.rssKibibytes;
    peakKibibytes = Math.max(peakKibibytes, status.highWaterKibibytes, status.rssKibibytes);
  };
  const sampler = setInterval(sample, rssSampleIntervalMs);
  sampler.unref();

  const deadline = Date.now() + options.startTimeoutMs;
  for (;;) {
    if (exited !== undefined) throw new Error(`the platform exited with code ${exited} during start; see ${logFile}:\n${tail(logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the platform did not answer /health within ${options.startTimeoutMs} ms; see ${logFile}:\n${tail(logFile)}`);
    }
    const healthy = await fetch(`${url}/health`).then((response) => response.ok, () => false);
    if (healthy) break;
    await sleep(100);
  }

  return {
    pid,
    url,
    logFile,
    peakRssMebibytes: () => {
      sample();
      return peakKibibytes / 1024;
    },
    rssMebibytes: () => {
      sample();
      return currentKibibytes / 1024;
    },
    async stop() {
      sample();
      clearInterval(sampler);
      if (exited !== undefined) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      const code = await exit;
      clearTimeout(timer);
      log.end();
      return code;
    },
  };
}

/**
 * Node flags the `start` script passes through tsx (`tsx --max-old-space-size=160 src/main.ts`
 * gives `['--max-old-space-size=160']`), so the bench runs the platform as `npm start` does.
 */
export function startScriptNodeFlags(repositoryRoot: string): string[] {
  const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const words = (manifest.scripts?.start ?? '').trim().split(/\s+/);
  const tsx = words.indexOf('tsx');
  if (tsx < 0) return [];
  const flags: string[] = [];
  for (const word of words.slice(tsx + 1)) {
    if (!word.startsWith('--')) break;
    flags.push(word);
  }
  return flags;
}

function readStatus(pid: number): { rssKibibytes: number; highWaterKibibytes: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rssKibibytes: field('VmRSS'), highWaterKibibytes: field('VmHWM') };
  } catch {
    return undefined;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}
