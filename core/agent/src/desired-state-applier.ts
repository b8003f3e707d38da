import { createHash } from 'node:crypto';
import {
  assertNever,
  SlipwayError,
  type AgentSettings,
  type DesiredState,
  type DrainReport,
  type JobSpec,
  type JobStatus,
  type Logger,
} from '@slipway/contracts';
import { backoffDelay } from './backoff.js';
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
  /** Bound of one drain attempt; a longer one counts as failed and is retried. */
  drainTimeoutMs: number;
  /** Backoff between failed drain attempts. Default 1 000 doubling to 30 000. */
  drainBackoff?: { baseMs?: number; maxMs?: number };
  /** Called when the drain report changes, so the agent reports it at once. */
  onDrainReport?(report: DrainReport): void;
  /** Mounts the VM's persistent disk (settings.persistentDiskId) before any job runs; absent: nothing to mount. */
  disk?: {
    ensureMounted(diskId: string, signal: AbortSignal, options?: { copyFrom?: string }): Promise<string>;
    readonly mountedDiskId?: string;
  };
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
  private drainReport: DrainReport | undefined;
  /** Ends the wait between drain attempts when a newer desired state arrives. */
  private drainRetry: AbortController | undefined;

  constructor(private readonly deps: ApplierDeps) {}

  /** The drain under way or last done for the current desired state; undefined when none was asked for. */
  get drainStatus(): DrainReport | undefined {
    return this.drainReport;
  }

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
    if (
      (this.pending && stateKey(this.pending) === key) ||
      (this.current && stateKey(this.current) === key) ||
      (this.appliedKey === key && !this.pending && !this.current)
    )
      return;
    this.pending = desired;
    // A drain that keeps failing retries until the desired state changes: this is that change.
    this.drainRetry?.abort();
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
        this.deps.logger.error('could not apply the desired state', {
          generation: desired.generation,
          error: describe(error),
        });
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
        this.drainReport = undefined;
        return this.run(desired.jobs, context, signal);
      case 'drained':
        return this.drain(desired.jobs, context, signal);
      case 'stopped':
        this.drainedFlag = false;
        this.drainReport = undefined;
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

  /**
   * Drains every job, retrying with backoff after a failed attempt until one succeeds or the desired state
   * changes. Each failure is reported (with the drain command's own message) so the control plane can show
   * it and decide, within its plan's drain_timeout_seconds, whether to stop the task or force the update.
   */
  private async drain(wanted: JobSpec[], context: JobContext, signal: AbortSignal): Promise<void> {
    this.drainedFlag = false;
    const drain = this.deps.catalog.drain?.bind(this.deps.catalog);
    if (!drain) {
      this.report({ state: 'drained', attempts: 0 });
      this.drainedFlag = true;
      return;
    }
    const retry = new AbortController();
    this.drainRetry = retry;
    const { baseMs = 1000, maxMs = 30_000 } = this.deps.drainBackoff ?? {};
    try {
      for (let attempt = 1; ; attempt++) {
        if (signal.aborted || retry.signal.aborted) return;
        this.report({
          state: 'draining',
          attempts: attempt,
          ...(this.drainReport?.message ? { message: this.drainReport.message } : {}),
        });
        const failures: string[] = [];
        for (const spec of wanted) {
          if (signal.aborted) return;
          const failure = await this.drainJob(drain, spec, context, signal);
          if (failure) failures.push(failure);
        }
        if (!failures.length) {
          this.report({ state: 'drained', attempts: attempt });
          this.drainedFlag = true;
          return;
        }
        const message = failures.join('; ');
        this.report({ state: 'failed', attempts: attempt, message });
        const waitMs = backoffDelay(attempt, baseMs, maxMs);
        this.deps.logger.warn('drain failed; retrying', { attempt, waitMs, error: message });
        const either = AbortSignal.any([signal, retry.signal]);
        await sleepQuietly(this.deps.supervisor.clock, waitMs, either);
      }
    } finally {
      if (this.drainRetry === retry) this.drainRetry = undefined;
    }
  }

  private report(report: DrainReport): void {
    this.drainReport = report;
    this.deps.onDrainReport?.(report);
  }

  /** Runs one job's drain hook within the drain timeout; the failure's message, or undefined when it drained. */
  private async drainJob(
    drain: NonNullable<JobCatalog['drain']>,
    spec: JobSpec,
    context: JobContext,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const timeoutMs = this.deps.drainTimeoutMs;
    const controller = new AbortController();
    const onHalt = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onHalt, { once: true });
    const timer = new AbortController();
    const timedOut = sleepQuietly(this.deps.supervisor.clock, timeoutMs, timer.signal).then(() => 'timeout' as const);
    try {
      const outcome = await Promise.race([
        drain(spec, { ...context, signal: controller.signal }).then(() => 'done' as const),
        timedOut,
      ]);
      if (outcome === 'timeout') {
        controller.abort(new SlipwayError('Timeout', `drain of ${spec.name} exceeded ${timeoutMs} ms`));
        return `drain of ${spec.name} did not finish within ${timeoutMs} ms`;
      }
      return undefined;
    } catch (error) {
      this.deps.logger.error('drain failed', { job: spec.name, error: describe(error) });
      return describe(error);
    } finally {
      timer.abort();
      signal.removeEventListener('abort', onHalt);
    }
  }
}

/** What makes two desired states the same to apply: generation, state, jobs and properties. */
function stateKey(desired: DesiredState): string {
  return createHash('sha256')
    .update(JSON.stringify([desired.generation, desired.state, desired.jobs, desired.properties ?? {}]))
    .digest('base64');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
