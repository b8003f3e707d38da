import type { JobStatus } from '@slipway/contracts';
import type { InstanceRow } from '../store/index.js';

/** A Kubernetes job an agent reports it cannot run on its VM, with the agent's reason (binary, where it looked). */
export interface UnavailableJob {
  instance: string;
  job: string;
  reason: string;
}

function jobsOf(instance: InstanceRow): JobStatus[] {
  if (!instance.processes) return [];
  try {
    return JSON.parse(instance.processes) as JobStatus[];
  } catch {
    return [];
  }
}

/** Every job the agents of `instances` report unavailable (a job once, however many processes it has). */
export function unavailableJobs(instances: InstanceRow[]): UnavailableJob[] {
  const found: UnavailableJob[] = [];
  for (const instance of instances) {
    for (const job of jobsOf(instance)) {
      const process = job.processes.find((p) => p.state === 'unavailable');
      const reason = job.unavailable ?? process?.reason ?? (process ? 'unavailable' : undefined);
      if (reason) found.push({ instance: `${instance.group_name}/${instance.idx}`, job: job.name, reason });
    }
  }
  return found;
}

/** One line per job: `kube-apiserver on master/0: binary kube-apiserver (...) not found in ...`. */
export function describeUnavailable(jobs: UnavailableJob[], limit = 6): string {
  const lines = jobs.slice(0, limit).map((j) => `${j.job} on ${j.instance}: ${j.reason}`);
  if (jobs.length > limit) lines.push(`and ${jobs.length - limit} more`);
  return lines.join('; ');
}
