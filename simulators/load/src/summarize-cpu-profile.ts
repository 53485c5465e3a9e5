import { readFile } from 'node:fs/promises';

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) that self time needs. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  function: string;
  /** File and line, relative to the repository; a dependency as its package path. */
  where: string;
  /** Share of the process's busy time (idle excluded), %. */
  selfPct: number;
  selfMs: number;
}

function shortWhere(url: string, line: number): string {
  if (url === '') return '(native)';
  let file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) file = file.slice(modules + '/node_modules/'.length);
  else {
    const repo = file.search(/\/(packages|services|simulators|test)\//);
    if (repo >= 0) file = file.slice(repo + 1);
  }
  return `${file}:${line + 1}`;
}

/**
 * The functions a process spent its own time in (self time: the sample's top frame), largest first. Each sample is
 * charged the time until the next one. Idle time is left out, so shares add up to the busy time. Pure.
 */
export function topSelfTime(profile: CpuProfile, top = 15): ProfileEntry[] {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byKey = new Map<string, { function: string; where: string; us: number }>();
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frame = frames.get(id);
    if (!frame || frame.functionName === '(idle)') return;
    busyUs += us;
    const name = frame.functionName || '(anonymous)';
    const where = shortWhere(frame.url, frame.lineNumber);
    const key = `${name}@${where}`;
    const entry = byKey.get(key) ?? { function: name, where, us: 0 };
    entry.us += us;
    byKey.set(key, entry);
  });
  return [...byKey.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ function: e.function, where: e.where, selfPct: Math.round((1000 * e.us) / Math.max(1, busyUs)) / 10, selfMs: Math.round(e.us / 1000) }));
}

export async function summarizeCpuProfile(file: string, top = 15): Promise<ProfileEntry[]> {
  return topSelfTime(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, top);
}
