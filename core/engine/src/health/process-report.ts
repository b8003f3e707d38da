import type { JobStatus, ProcessStatus } from '@slipway/contracts';

/** The processes of a heartbeat (the instances.processes column), parsed leniently. */
export function parseProcesses(json: string | null): JobStatus[] {
  if (!json) return [];
  try {
    const value = JSON.parse(json) as unknown;
    return Array.isArray(value) ? (value as JobStatus[]) : [];
  } catch {
    return [];
  }
}

/** Restarts per `job/process`, as the agent counts them. */
export function restartCounts(jobs: JobStatus[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const job of jobs) for (const p of job.processes ?? []) out.set(`${job.name}/${p.name}`, p.restarts ?? 0);
  return out;
}

/** Processes whose restart count went up between two reports, with both counts. */
export function restartsBetween(
  before: Map<string, number>,
  after: Map<string, number>,
): Array<{ process: string; from: number; to: number }> {
  const out: Array<{ process: string; from: number; to: number }> = [];
  for (const [process, to] of after) {
    const from = before.get(process);
    if (from !== undefined && to > from) out.push({ process, from, to });
  }
  return out;
}

/** `kubelet failing (5 restarts: exit 1)`, for events and alerts; every process not running. */
export function describeUnhealthy(jobs: JobStatus[]): string {
  const bad: string[] = [];
  for (const job of jobs) {
    for (const p of job.processes ?? []) {
      if (p.state === 'running' || p.state === 'unavailable') continue;
      bad.push(describeProcess(p));
    }
  }
  return bad.join(', ') || 'no process reported failing';
}

/** `kubelet running, kube-proxy starting` (at most `limit` processes), for timeout messages. */
export function describeAll(jobs: JobStatus[], limit = 6): string {
  const all = jobs.flatMap((j) => j.processes ?? []);
  if (!all.length) return 'no processes reported';
  const shown = all
    .slice(0, limit)
    .map((p) => `${p.name} ${p.state}`)
    .join(', ');
  return all.length > limit ? `${shown} and ${all.length - limit} more` : shown;
}

function describeProcess(p: ProcessStatus): string {
  const extra = [p.restarts ? `${p.restarts} restart${p.restarts === 1 ? '' : 's'}` : '', p.reason ?? '']
    .filter(Boolean)
    .join(': ');
  return `${p.name} ${p.state}${extra ? ` (${extra})` : ''}`;
}
