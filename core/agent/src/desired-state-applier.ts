import { createHash } from 'node:crypto';
import { assertNever, SlipwayError, type AgentSettings, type DesiredState, type JobSpec, type JobStatus, type Logger } from '@slipway/contracts';
import type { JobCatalog, JobContext, JobPlan } from './job-catalog.js';
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
  /** Mounts the VM's persistent disk (settings.persistentDiskId) before any job runs; absent: nothing to mount. */
  disk?: { ensureMounted(diskId: string, signal: AbortSignal, options?: { copyFrom?: string }): Promise<string>; readonly mountedDiskId?: string };
  /** Called when a desired generation has been applied. */
  onApplied(generation: number, desired: DesiredState): void;
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
  private appliedKey: string | undefined;
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

  /**
   * Schedules `desired` unless it is the state already applied or under way. The same generation with other
   * properties (a reissued certificate, a new API address) is applied again: the control plane does not
   * bump the generation for those.
   */
  converge(desired: DesiredState): void {
    if (this.halted.signal.aborted) return;
    const key = stateKey(desired);
    if ((this.pending && stateKey(this.pending) === key) || (this.current && stateKey(this.current) === key) ||
      (this.appliedKey === key && !this.pending && !this.current)) return;
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
          this.appliedKey = stateKey(desired);
          this.deps.logger.info('desired state applied', { generation: desired.generation, state: desired.state });
          this.deps.onApplied(desired.generation, desired);
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

  /** The persistent disk mounted now, for the heartbeat. */
  get mountedDiskId(): string | undefined {
    return this.deps.disk?.mountedDiskId;
  }

  private async run(wanted: JobSpec[], context: JobContext, signal: AbortSignal): Promise<void> {
    const diskId = this.deps.settings.persistentDiskId;
    // Jobs keep their data on the persistent disk: none starts before it is mounted (it is attached after boot).
    const copyFrom = this.deps.settings.persistentDiskCopyFrom;
    if (diskId && this.deps.disk) await this.deps.disk.ensureMounted(diskId, signal, copyFrom ? { copyFrom } : {});
    const names = new Set(wanted.map((job) => job.name));
    for (const job of [...this.jobs.values()].reverse()) {
      if (!names.has(job.name)) await job.stop(this.deps.stopGraceMs);
    }
    const ordered = new Map<string, JobSupervisor>();
    for (const spec of wanted) {
      if (signal.aborted) return;
      const job = this.jobs.get(spec.name) ?? new JobSupervisor(spec.name, this.deps.supervisor);
      const plan = await this.planOf(spec, context, signal);
      await job.reconcile(plan.processes, this.deps.stopGraceMs, { unavailable: plan.unavailable, hooks: plan.hooks });
      ordered.set(spec.name, job);
    }
    this.jobs = ordered;
    for (const job of ordered.values()) {
      if (signal.aborted) return;
      await job.run(signal);
    }
  }

  private async planOf(spec: JobSpec, context: JobContext, signal: AbortSignal): Promise<JobPlan> {
    const catalog = this.deps.catalog;
    if (catalog.plan) return catalog.plan(spec, { ...context, signal });
    if (catalog.processes) return { processes: catalog.processes(spec, context) };
    throw new SlipwayError('Internal', 'the job catalog implements neither plan() nor processes()');
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

/** What makes two desired states the same to apply: generation, state, jobs and properties. */
function stateKey(desired: DesiredState): string {
  return createHash('sha256').update(JSON.stringify([desired.generation, desired.state, desired.jobs, desired.properties ?? {}])).digest('base64');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
