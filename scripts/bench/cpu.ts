import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time from /proc, so each phase can say where the machine's two cores
 * went: the platform process, PostgreSQL (the postmaster, its live
 * backends, and the backends that already exited, through the postmaster's
 * children counters), this bench process, and everything else on the
 * machine (other engineers' test runs: the noise).
 */
const ticksPerSecond = 100; // USER_HZ on Linux

interface ProcessTimes {
  ownSeconds: number;
  exitedChildrenSeconds: number;
  parentPid: number;
}

function processTimes(pid: number): ProcessTimes | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const field = (number: number) => Number(fields[number - 3]);
    return {
      ownSeconds: (field(14) + field(15)) / ticksPerSecond,
      exitedChildrenSeconds: (field(16) + field(17)) / ticksPerSecond,
      parentPid: field(4),
    };
  } catch {
    return undefined;
  }
}

/** CPU seconds of one process (its threads included). */
export function processCpuSeconds(pid: number): number {
  return processTimes(pid)?.ownSeconds ?? 0;
}

/** CPU seconds of a PostgreSQL server: postmaster, live backends, and backends that have exited. */
export function postgresCpuSeconds(postmasterPid: number): number {
  const postmaster = processTimes(postmasterPid);
  if (!postmaster) return 0;
  let total = postmaster.ownSeconds + postmaster.exitedChildrenSeconds;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = processTimes(Number(entry));
    if (child?.parentPid === postmasterPid) total += child.ownSeconds;
  }
  return total;
}

/** Busy and total CPU seconds of the whole machine, all cores summed. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / ticksPerSecond, total: (busy + idle + iowait) / ticksPerSecond };
}

/** The postmaster pid of a data directory (first line of postmaster.pid), if it runs. */
export function postmasterPidOf(clusterDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${clusterDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface CpuSnapshot {
  atMs: number;
  platformSeconds: number;
  postgresSeconds: number;
  benchSeconds: number;
  machineBusySeconds: number;
  machineTotalSeconds: number;
}

export interface CpuUse {
  seconds: number;
  /** Cores' worth of CPU each used on average over the phase (1.0 = one core busy all the time). */
  platformCores: number;
  postgresCores: number;
  benchCores: number;
  otherCores: number;
  machineCores: number;
  platformSeconds: number;
  postgresSeconds: number;
}

export function cpuSnapshot(platformPid: number | undefined, postmasterPid: number | undefined): CpuSnapshot {
  const machine = machineCpuSeconds();
  const bench = process.cpuUsage();
  return {
    atMs: Date.now(),
    platformSeconds: platformPid ? processCpuSeconds(platformPid) : 0,
    postgresSeconds: postmasterPid ? postgresCpuSeconds(postmasterPid) : 0,
    benchSeconds: (bench.user + bench.system) / 1e6,
    machineBusySeconds: machine.busy,
    machineTotalSeconds: machine.total,
  };
}

export function cpuUse(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const seconds = (after.atMs - before.atMs) / 1000;
  const platformSeconds = after.platformSeconds - before.platformSeconds;
  const postgresSeconds = after.postgresSeconds - before.postgresSeconds;
  const benchSeconds = after.benchSeconds - before.benchSeconds;
  const machineSeconds = after.machineBusySeconds - before.machineBusySeconds;
  return {
    seconds,
    platformCores: platformSeconds / seconds,
    postgresCores: postgresSeconds / seconds,
    benchCores: benchSeconds / seconds,
    otherCores: Math.max(0, machineSeconds - platformSeconds - postgresSeconds - benchSeconds) / seconds,
    machineCores: machineSeconds / seconds,
    platformSeconds,
    postgresSeconds,
  };
}
