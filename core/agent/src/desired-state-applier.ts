import { assertNever, SlipwayError, type AgentSettings, type DesiredState, type JobSpec, type JobStatus, type Logger } from '@slipway/contracts';
import type { JobCatalog, JobContext } from './job-catalog.js';
import { JobSupervisor } from './job-supervisor.js';
import type { ProcessSpec, RunningProcess } from './process-runner.js';
import type { SupervisorDeps } from './process-supervisor.js';
import { sleepQuietly } from './system-clock.js';

export interface ApplierDeps {
  settings: AgentSettings;
  catalog: JobCatalog;
  logger: Logger;
  supervisor: SupervisorDeps;
  stopGraceMs: number;
  drainTimeoutMs: number;
  /** Called when a desired generation has been applied. */
  onApplied(generation: number): void;
}

/**
 * Brings the VM's jobs to the desired state, one generation at a time, in the background: the agent keeps
 * heartbeating while processes start or a drain runs. A newer generation received meanwhile is applied next.
 */
export class DesiredStateApplier {
  /** In start order. */
  private jobs = new Map<string, JobSupervisor>();
  private pending: DesiredState | undefined;
  private current: DesiredState | undefined;
  private worker: Promise<void> | undefined;
  private readonly halted = new AbortController();
  private applied: number | undefined;
  private drainedFlag = false;

  constructor(private readonly deps: ApplierDeps) {}

  get appliedGeneration(): number | undefined {
    return this.applied;
  }

  get drained(): boolean {
    return this.drainedFlag;
  }

  get hasJobs(): boolean {
    return this.jobs.size > 0;
  }

  adopt(processes: Array<{ spec: ProcessSpec; process: RunningProcess }>): void {
    for (const { spec, process } of processes) {
      let job = this.jobs.get(spec.job);
      if (!job) {
        job = new JobSupervisor(spec.job, this.deps.supervisor);
        this.jobs.set(spec.job, job);
      }
      job.adopt(spec, process);
    }
  }

  /** Schedules `desired` unless it is the generation already applied or under way. */
  converge(desired: DesiredState): void {
    if (this.halted.signal.aborted) return;
    const generation = desired.generation;
    if (this.pending?.generation === generation || (this.current?.generation === generation) ||
      (this.applied === generation && !this.pending && !this.current)) return;
    this.pending = desired;
    this.worker ??= this.work().finally(() => {
      this.worker = undefined;
    });
  }

  status(): JobStatus[] {
    return [...this.jobs.values()].map((job) => job.status());
  }

  /** Ends the work on the desired state (an apply in progress stops between steps) and waits for it. */
  async halt(): Promise<void> {
    this.halted.abort();
    await this.worker;
  }

  /** Stops every job in reverse start order. */
  async stopAll(): Promise<void> {
    for (const job of [...this.jobs.values()].reverse()) await job.stop(this.deps.stopGraceMs);
  }

  detach(): void {
    for (const job of this.jobs.values()) job.detach();
  }

  private async work(): Promise<void> {
    while (this.pending && !this.halted.signal.aborted) {
      const desired = this.pending;
      this.pending = undefined;
      this.current = desired;
      try {
        await this.apply(desired, this.halted.signal);
        if (!this.halted.signal.aborted) {
          this.applied = desired.generation;
          this.deps.logger.info('desired state applied', { generation: desired.generation, state: desired.state });
          this.deps.onApplied(desired.generation);
        }
      } catch (error) {
        // Not marked applied: the next sync hands the same generation back and it is tried again.
        this.deps.logger.error('could not apply the desired state', { generation: desired.generation, error: describe(error) });
      } finally {
        this.current = undefined;
      }
    }
  }

  private async apply(desired: DesiredState, signal: AbortSignal): Promise<void> {
    const context: JobContext = { settings: this.deps.settings, properties: desired.properties ?? {} };
    switch (desired.state) {
      case 'running':
        this.drainedFlag = false;
        return this.run(desired.jobs, context, signal);
      case 'drained':
        return this.drain(desired.jobs, context, signal);
      case 'stopped':
        this.drainedFlag = false;
        return this.stopAll();
      default:
        return assertNever(desired.state, 'desired state');
    }
  }

  private async run(wanted: JobSpec[], context: JobContext, signal: AbortSignal): Promise<void> {
    const names = new Set(wanted.map((job) => job.name));
    for (const job of [...this.jobs.values()].reverse()) {
      if (!names.has(job.name)) await job.stop(this.deps.stopGraceMs);
    }
    const ordered = new Map<string, JobSupervisor>();
    for (const spec of wanted) {
      const job = this.jobs.get(spec.name) ?? new JobSupervisor(spec.name, this.deps.supervisor);
      await job.reconcile(this.deps.catalog.processes(spec, context), this.deps.stopGraceMs);
      ordered.set(spec.name, job);
    }
    this.jobs = ordered;
    for (const job of ordered.values()) {
      if (signal.aborted) return;
      await job.run(signal);
    }
  }

  private async drain(wanted: JobSpec[], context: JobContext, signal: AbortSignal): Promise<void> {
    this.drainedFlag = false;
    const drain = this.deps.catalog.drain?.bind(this.deps.catalog);
    let complete = true;
    if (drain) {
      for (const spec of wanted) {
        if (signal.aborted) return;
        complete = (await this.drainJob(drain, spec, context, signal)) && complete;
      }
    }
    this.drainedFlag = complete;
  }

  /** Runs one job's drain hook within the drain timeout; false when the hook failed. */
  private async drainJob(drain: NonNullable<JobCatalog['drain']>, spec: JobSpec, context: JobContext, signal: AbortSignal): Promise<boolean> {
    const timeoutMs = this.deps.drainTimeoutMs;
    const controller = new AbortController();
    const onHalt = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onHalt, { once: true });
    const timer = new AbortController();
    const timedOut = sleepQuietly(this.deps.supervisor.clock, timeoutMs, timer.signal).then(() => 'timeout' as const);
    try {
      const outcome = await Promise.race([drain(spec, { ...context, signal: controller.signal }).then(() => 'done' as const), timedOut]);
      if (outcome === 'timeout') {
        // The control plane waits for `drained` before it stops the VM; a stuck hook must not hold it forever.
        this.deps.logger.warn('drain did not finish within its timeout; reporting drained', { job: spec.name, timeoutMs });
        controller.abort(new SlipwayError('Timeout', `drain of ${spec.name} exceeded ${timeoutMs} ms`));
      }
      return true;
    } catch (error) {
      this.deps.logger.error('drain failed', { job: spec.name, error: describe(error) });
      return false;
    } finally {
      timer.abort();
      signal.removeEventListener('abort', onHalt);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
