import type { JobStatus } from '@slipway/contracts';
import { HookRunner } from './hook-runner.js';
import type { HookSpec } from './job-catalog.js';
import { sameProcessSpec, type ProcessSpec, type RunningProcess } from './process-runner.js';
import { ProcessSupervisor, type SupervisorDeps } from './process-supervisor.js';

/** The processes of one job, started in order and stopped in reverse order, and its hooks. */
export class JobSupervisor {
  private processes: ProcessSupervisor[] = [];
  private hooks: HookRunner[] = [];
  private unavailable: string | undefined;

  constructor(
    readonly name: string,
    private readonly deps: SupervisorDeps & { env?: Record<string, string> },
  ) {}

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
  async reconcile(
    specs: ProcessSpec[],
    graceMs: number,
    extras: { unavailable?: string; hooks?: HookSpec[] } = {},
  ): Promise<void> {
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
    this.unavailable = extras.unavailable;
    await this.reconcileHooks(extras.hooks ?? []);
  }

  /** Starts each process in order, waiting for each start before the next, then the hooks. */
  async run(signal: AbortSignal): Promise<void> {
    for (const process of this.processes) {
      if (signal.aborted) return;
      await process.run();
    }
    if (!signal.aborted) for (const hook of this.hooks) hook.start();
  }

  async stop(graceMs: number): Promise<void> {
    await Promise.all(this.hooks.map((hook) => hook.stop()));
    for (const process of [...this.processes].reverse()) await process.stop(graceMs);
  }

  detach(): void {
    for (const hook of this.hooks) void hook.stop();
    for (const process of this.processes) process.detach();
  }

  status(): JobStatus {
    return {
      name: this.name,
      processes: this.processes.map((p) => p.status()),
      ...(this.unavailable ? { unavailable: this.unavailable } : {}),
      ...(this.hooks.length ? { hooks: this.hooks.map((h) => h.status()) } : {}),
    };
  }

  private async reconcileHooks(specs: HookSpec[]): Promise<void> {
    const next: HookRunner[] = [];
    for (const spec of specs) {
      const same = this.hooks.find((h) => JSON.stringify(h.spec) === JSON.stringify(spec));
      next.push(same ?? new HookRunner(spec, this.deps));
    }
    await Promise.all(this.hooks.filter((h) => !next.includes(h)).map((h) => h.stop()));
    this.hooks = next;
  }
}
