import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ): 100 on Linux for every architecture we run on. */
const USER_HZ = 100;

export interface ProcSample {
  /** User + system CPU time so far, s. */
  cpuS: number;
  /** Resident set now, and its peak (VmHWM), bytes. */
  rssBytes: number;
  peakRssBytes: number;
  /**
   * Time the main thread was runnable but waiting for a CPU, s (/proc/<pid>/schedstat). On a shared machine this
   * tells a process that was starved from one that was idle.
   */
  runWaitS: number;
}

/** utime + stime from /proc/<pid>/stat, in seconds. The command name may hold spaces: fields count after ")". */
export function parseProcStat(text: string): number {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After ")": state is field 3 of the man page, so utime (14) and stime (15) are at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** VmRSS and VmHWM from /proc/<pid>/status, in bytes. */
export function parseProcStatus(text: string): { rssBytes: number; peakRssBytes: number } {
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

/** The run-queue wait of /proc/<pid>/schedstat ("on-CPU ns, waiting ns, timeslices"), in seconds. */
export function parseSchedstat(text: string): number {
  return Number(text.trim().split(/\s+/)[1] ?? NaN) / 1e9;
}

/** A process's CPU and memory now; `undefined` once it is gone. */
export async function sampleProcess(pid: number | 'self'): Promise<ProcSample | undefined> {
  try {
    const [stat, status, sched] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8'), readFile(`/proc/${pid}/schedstat`, 'utf8').catch(() => '0 0 0')]);
    return { cpuS: parseProcStat(stat), ...parseProcStatus(status), runWaitS: parseSchedstat(sched) };
  } catch {
    return undefined;
  }
}
