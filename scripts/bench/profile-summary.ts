import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 `.cpuprofile` (from `npm run bench -- --profile`, which
 * starts the platform with `node --cpu-prof`): where the platform's CPU time
 * went, by area (our folders, each dependency, Node internals, GC) and by
 * function, as shares of the busy (non-idle) time.
 *
 *   npx tsx scripts/bench/profile-summary.ts artifacts/profiles/<run>/<file>.cpuprofile [top]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  wallSeconds: number;
  busySeconds: number;
  /** [area, share of busy time] sorted by share. */
  areas: [string, number][];
  /** [function @ location, share of busy time] sorted by share. */
  functions: [string, number][];
  /** [area, inclusive share]: time spent in an area or anything it called. */
  inclusiveAreas: [string, number][];
  /** [package or src folder, share]: each sample charged to the nearest frame that is a dependency or our code (Node internals and native code charged to their caller). */
  attributed: [string, number][];
  /** [src folder, share]: each sample charged to the nearest frame of our own code. */
  attributedToSource: [string, number][];
}

const isComponent = (area: string) => !area.startsWith('node:') && !['native', 'other', 'GC', 'idle', 'V8/native (program)'].includes(area);

/** Which part of the system a source URL belongs to. */
export function areaOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url === '') return 'native';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module) return module[1];
  const source = /\/src\/([^/]+)(?:\/([^/]+))?/.exec(url);
  if (source) return source[1] === 'sandbox' ? `src/sandbox/${source[2] ?? ''}` : `src/${source[1]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return 'other';
}

export function summarise(profile: Profile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfMicros = new Map<number, number>();
  for (let index = 0; index < profile.samples.length; index += 1) {
    const id = profile.samples[index];
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  }
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const attributed = new Map<string, number>();
  const attributedToSource = new Map<string, number>();
  let busyMicros = 0;
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id)!;
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    if (area === 'idle') continue;
    busyMicros += micros;
    areas.set(area, (areas.get(area) ?? 0) + micros);
    const location = node.callFrame.url ? `${node.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${node.callFrame.lineNumber + 1}` : '';
    const key = `${node.callFrame.functionName || '(anonymous)'} ${location}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + micros);
    // Inclusive: every distinct area on the stack gets the sample once.
    const seen = new Set<string>();
    let component: string | undefined;
    let source: string | undefined;
    for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const frame = byId.get(cursor)!.callFrame;
      const frameArea = areaOf(frame.url, frame.functionName);
      if (!component && isComponent(frameArea)) component = frameArea;
      if (!source && frameArea.startsWith('src/')) source = frameArea;
      if (frameArea === 'native' || frameArea === 'other' || frameArea.startsWith('(')) continue;
      seen.add(frameArea);
    }
    const fallback = ['GC', 'V8/native (program)'].includes(area) ? area : '(no JavaScript caller)';
    attributed.set(component ?? fallback, (attributed.get(component ?? fallback) ?? 0) + micros);
    attributedToSource.set(source ?? fallback, (attributedToSource.get(source ?? fallback) ?? 0) + micros);
    for (const frameArea of seen) inclusive.set(frameArea, (inclusive.get(frameArea) ?? 0) + micros);
  }
  const shares = (map: Map<string, number>): [string, number][] =>
    [...map.entries()].map(([key, micros]): [string, number] => [key, micros / busyMicros]).sort((a, b) => b[1] - a[1]);
  return {
    wallSeconds: (profile.endTime - profile.startTime) / 1e6,
    busySeconds: busyMicros / 1e6,
    areas: shares(areas),
    functions: shares(functions),
    inclusiveAreas: shares(inclusive),
    attributed: shares(attributed),
    attributedToSource: shares(attributedToSource),
  };
}

export function formatSummary(summary: ProfileSummary, top: number): string {
  const percent = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  return [
    `wall ${summary.wallSeconds.toFixed(1)} s, busy ${summary.busySeconds.toFixed(1)} s (${percent(summary.busySeconds / summary.wallSeconds).trim()} of one core)`,
    '',
    'self time by area:',
    ...summary.areas.slice(0, top).map(([area, share]) => `  ${percent(share)}  ${area}`),
    '',
    'inclusive time by area (an area and everything it called):',
    ...summary.inclusiveAreas.slice(0, top).map(([area, share]) => `  ${percent(share)}  ${area}`),
    '',
    'self time charged to the nearest dependency or folder of ours (Node internals and native code to their caller):',
    ...summary.attributed.slice(0, top).map(([area, share]) => `  ${percent(share)}  ${area}`),
    '',
    'self time charged to the nearest folder of ours:',
    ...summary.attributedToSource.slice(0, top).map(([area, share]) => `  ${percent(share)}  ${area}`),
    '',
    'self time by function:',
    ...summary.functions.slice(0, top).map(([name, share]) => `  ${percent(share)}  ${name}`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx scripts/bench/profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 25);
  process.stdout.write(`${formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile), top)}\n`);
}
