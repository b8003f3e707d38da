import { readdirSync, readFileSync } from 'node:fs';

/**
 * Linux /proc facts about a process. A pid alone does not name a process (pids are reused), so the agent
 * keeps the kernel's start time with every pid it records and checks both before it adopts or kills.
 */

/** Fields of /proc/PID/stat the agent uses; undefined when there is no such process. */
export function readProcStat(
  pid: number,
): { state: string; ppid: number; pgid: number; startTime: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0]!, ppid: Number(rest[1]), pgid: Number(rest[2]), startTime: Number(rest[19]) };
}

/** Whether `pid` is still the process that was started at `startTime` (a zombie counts as gone). */
export function isSameProcess(pid: number, startTime: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/**
 * Pids of live processes whose environment has `name=value` (what every process of one local VM inherits);
 * with `prefix`, any value starting with `value`.
 */
export function pidsWithEnv(name: string, value: string, options: { prefix?: boolean } = {}): number[] {
  const needle = Buffer.from(options.prefix ? `${name}=${value}` : `${name}=${value}\0`);
  const found: number[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue;
    }
    if (
      (environ.subarray(0, needle.length).equals(needle) ||
        environ.includes(Buffer.concat([Buffer.from([0]), needle]))) &&
      !['Z', 'X'].includes(readProcStat(pid)?.state ?? 'X')
    )
      found.push(pid);
  }
  return found;
}

/** Sends `signal` to the process group `pgid` (and to `pgid` itself), ignoring groups that are gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  for (const target of [-pgid, pgid]) {
    try {
      process.kill(target, signal);
    } catch {
      // Gone already (ESRCH), or not a group leader any more.
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
