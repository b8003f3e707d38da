import type { JobStatus } from '@slipway/contracts';
import { sameProcessSpec, type ProcessSpec, type RunningProcess } from './process-runner.js';
import { ProcessSupervisor, type SupervisorDeps } from './process-supervisor.js';

/** The processes of one job, started in order and stopped in reverse order. */
export class JobSupervisor {
  private processes: ProcessSupervisor[] = [];

  constructor(readonly name: string, private readonly deps: SupervisorDeps) {}

  /** Takes over an already running process of this job (agent restart). */
  adopt(spec: ProcessSpec, process: RunningProcess): void {
    const supervisor = new ProcessSupervisor(spec, this.deps);
    supervisor.adopt(process);
    this.processes.push(supervisor);
  }

  /**
   * Makes the job's process list match `specs`: a process whose spec is unchanged keeps running (so an
   * adopted process is not restarted); removed or changed ones are stopped, in reverse order.
   */
  async reconcile(specs: ProcessSpec[], graceMs: number): Promise<void> {
    const kept: ProcessSupervisor[] = [];
    const next = specs.map((spec) => {
      const existing = this.processes.find((p) => !kept.includes(p) && sameProcessSpec(p.spec, spec));
      if (existing) {
        kept.push(existing);
        return existing;
      }
      return new ProcessSupervisor(spec, this.deps);
    });
    const obsolete = this.processes.filter((p) => !kept.includes(p));
    for (const process of obsolete.reverse()) await process.stop(graceMs);
    this.processes = next;
  }

  /** Starts each process in order, waiting for each start before the next. */
  async run(signal: AbortSignal): Promise<void> {
    for (const process of this.processes) {
      if (signal.aborted) return;
      await process.run();
    }
  }

  async stop(graceMs: number): Promise<void> {
    for (const process of [...this.processes].reverse()) await process.stop(graceMs);
  }

  detach(): void {
    for (const process of this.processes) process.detach();
  }

  status(): JobStatus {
    return { name: this.name, processes: this.processes.map((p) => p.status()) };
  }
}
