import { inject, injectable } from 'tsyringe';
import { SlipwayError, throwIfAborted, type Clock, type Logger } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import { isUniqueViolation, type ClusterRow, type Store, type TaskRow } from '../store/index.js';
import { newReplicaIdentity } from '../replicas/identity.js';
import { replicaSettingsOf } from '../replicas/settings.js';
import { TaskLeases } from '../replicas/task-leases.js';
import { CLOCK, LOGGER, STORE, TASK_LEASES } from '../tokens.js';
import type { StepContext, TaskDefinition, TaskType } from './model.js';

interface RunningTask {
  controller: AbortController;
  done: Promise<void>;
  /** When this replica's lease on the task runs out, by its own clock when it last asked for it. */
  leaseUntil: number;
}

/** The refusal of a second mutating task on a cluster, naming the one that runs. */
function busy(clusterName: string, active: TaskRow): SlipwayError {
  return new SlipwayError(
    'Conflict',
    `cluster "${clusterName}" is busy with ${active.type.toLowerCase()} (task ${active.id}); retry when it finishes or run: slipway cancel-task ${active.id}`,
    {
      details: { task_id: active.id, task_type: active.type },
    },
  );
}

/**
 * Runs persisted tasks of idempotent steps. One mutating task per cluster: a second one is refused with
 * Conflict naming the running task. A task is worked on by the replica that holds its lease, renewed while
 * it runs; a task whose lease lapsed (its replica died) is claimed by another and resumes at the step that
 * was running. A replica that can no longer renew a lease stops that task at its next safe point.
 */
@injectable()
export class TaskRunner {
  private readonly definitions = new Map<TaskType, TaskDefinition<any>>();
  private readonly running = new Map<number, RunningTask>();
  /** Tasks this replica lost to another: they stop at the next safe point and write nothing more. */
  private readonly lost = new Set<number>();
  /** Per-cluster submission lock: the check for a running task and the insert happen under it. */
  private readonly submitting = new Map<string, Promise<unknown>>();
  private stopping = false;
  private readonly leases: TaskLeases;
  private readonly timers: NodeJS.Timeout[] = [];
  private renewing: Promise<void> | undefined;
  private claiming: Promise<unknown> | undefined;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(TASK_LEASES) leases?: TaskLeases,
  ) {
    this.leases = leases ?? new TaskLeases(store.db, replicaSettingsOf({}, 'exclusive'), newReplicaIdentity(), clock);
  }

  register(definition: TaskDefinition<any>): void {
    this.definitions.set(definition.type, definition);
  }

  /**
   * Creates a task for a cluster and starts it. `prepare` runs under the cluster's lock after the
   * conflict check (e.g. to insert the cluster row) so nothing is half-created when the check fails.
   */
  async submit<P>(input: {
    type: TaskType;
    cluster: { uuid: string; name: string };
    user: string;
    description: string;
    params: P;
    prepare?: () => Promise<void>;
  }): Promise<TaskRow> {
    const definition = this.definition(input.type);
    const previous = this.submitting.get(input.cluster.uuid) ?? Promise.resolve();
    // The map serialises submissions within this process (a fast, friendly refusal); the partial unique index
    // on tasks (one active task per cluster) is what holds across replicas and races.
    const attempt = previous
      .catch(() => {})
      .then(async () => {
        const active = await this.store.tasks.activeForCluster(input.cluster.uuid);
        if (active) throw busy(input.cluster.name, active);
        await input.prepare?.();
        const now = isoNow(this.clock);
        let id: number;
        try {
          id = await this.store.tasks.create(
            {
              type: input.type,
              cluster_uuid: input.cluster.uuid,
              cluster_name: input.cluster.name,
              user: input.user,
              state: 'queued',
              description: input.description,
              params: JSON.stringify(input.params ?? {}),
              waiting_for: null,
              error: null,
              created_at: now,
              started_at: null,
              ended_at: null,
              ...this.leases.initialLease(),
            },
            definition.steps(input.params),
          );
        } catch (e) {
          if (!isUniqueViolation(e)) throw e;
          const winner = await this.store.tasks.activeForCluster(input.cluster.uuid);
          throw winner
            ? busy(input.cluster.name, winner)
            : new SlipwayError('Conflict', `cluster "${input.cluster.name}" was busy with another task; retry`, {
                retryable: true,
                cause: e,
              });
        }
        const created = (await this.store.tasks.get(id))!;
        await this.emit(created, 'task.queued', `${created.description} queued (task ${id})`, {
          type: created.type,
          state: created.state,
        });
        return created;
      });
    this.submitting.set(input.cluster.uuid, attempt);
    try {
      const task = await attempt;
      this.start(task);
      return task;
    } finally {
      if (this.submitting.get(input.cluster.uuid) === attempt) this.submitting.delete(input.cluster.uuid);
    }
  }

  /**
   * Claims and resumes the unfinished tasks this replica may take: with the store to itself (SQLite), every
   * one; sharing it, those whose owner let go or whose lease lapsed. Returns how many it took.
   */
  async resumeAll(): Promise<number> {
    let taken = 0;
    for (;;) {
      if (this.stopping) return taken;
      const claimed = await this.leases.claim();
      for (const claim of claimed) {
        const task = await this.store.tasks.get(claim.id);
        if (!task) continue;
        taken++;
        if (task.state === 'cancelling') {
          await this.finish(task.id, 'cancelled', null);
          continue;
        }
        const how = !claim.previousOwner
          ? `started by ${this.leases.owner}`
          : this.leases.mode === 'exclusive'
            ? 'resumed after a restart of the control plane'
            : claim.released
              ? `resumed by ${this.leases.owner} after ${claim.previousOwner} stopped`
              : `taken over by ${this.leases.owner}: the lease of ${claim.previousOwner} lapsed`;
        this.logger.info('resuming task', {
          task: task.id,
          type: task.type,
          cluster: task.cluster_name,
          previousOwner: claim.previousOwner,
        });
        await this.store.tasks.log(task.id, isoNow(this.clock), 'info', how);
        this.start(task);
      }
      if (claimed.length < TaskLeases.CLAIM_BATCH) return taken;
    }
  }

  /**
   * Keeps this replica's leases and looks for orphaned work, until shutdown: renews every `renewMs`, claims
   * lapsed tasks every `claimMs`.
   */
  startLeases(): void {
    if (this.stopping || this.timers.length) return;
    const { renewMs, claimMs } = this.leases.timings;
    const renew = setInterval(() => {
      if (!this.renewing)
        this.renewing = this.renew().finally(() => {
          this.renewing = undefined;
        });
    }, renewMs);
    const claim = setInterval(() => {
      if (this.claiming) return;
      this.claiming = this.resumeAll()
        .catch((e) => this.logger.warn('could not look for tasks to take over', { error: (e as Error).message }))
        .finally(() => {
          this.claiming = undefined;
        });
    }, claimMs);
    renew.unref?.();
    claim.unref?.();
    this.timers.push(renew, claim);
  }

  private async renew(): Promise<void> {
    const ids = [...this.running.keys()].filter((id) => !this.lost.has(id));
    if (!ids.length) return;
    const asked = this.clock.now();
    try {
      const { kept, cancelRequested } = await this.leases.renew(ids);
      for (const id of ids) {
        const run = this.running.get(id);
        if (!run) continue;
        if (!kept.has(id)) {
          this.lose(id, 'another replica took it over');
          continue;
        }
        run.leaseUntil = asked + this.leases.timings.leaseMs;
        if (cancelRequested.has(id) && !run.controller.signal.aborted)
          run.controller.abort(new SlipwayError('Cancelled', `task ${id} was cancelled`));
      }
    } catch (e) {
      this.logger.warn('could not renew task leases', { error: (e as Error).message, tasks: ids });
      // Not renewed: stop before the lease runs out, since from then on another replica may run the task.
      const now = this.clock.now();
      for (const id of ids) {
        const run = this.running.get(id);
        if (run && now + this.leases.timings.renewMs >= run.leaseUntil)
          this.lose(id, 'its lease could not be renewed in time');
      }
    }
  }

  /** Stops a task this replica no longer owns, at its next await, without writing its state. */
  private lose(taskId: number, why: string): void {
    if (this.lost.has(taskId)) return;
    this.lost.add(taskId);
    this.logger.warn('task lease lost: stopping work on it', { task: taskId, why });
    this.running
      .get(taskId)
      ?.controller.abort(new SlipwayError('Conflict', `task ${taskId} is no longer this replica's: ${why}`));
  }

  /** Asks a task to stop at its next safe point; `by` names who asked, for the task's error and log. */
  async cancel(taskId: number, by?: string): Promise<TaskRow> {
    const task = await this.store.tasks.get(taskId);
    if (!task)
      throw new SlipwayError('NotFound', `task ${taskId} does not exist`, { hint: 'List tasks with `slipway tasks`.' });
    if (!['queued', 'processing', 'cancelling'].includes(task.state)) {
      throw new SlipwayError(
        'Conflict',
        `task ${taskId} has already ended (${task.state}); only a running task can be cancelled`,
      );
    }
    await this.store.tasks.update(taskId, { cancel_requested: 1, state: 'cancelling' });
    const who = by ? ` by ${by}` : '';
    await this.store.tasks.log(
      taskId,
      isoNow(this.clock),
      'warn',
      `cancel requested${who}; stopping at the next safe point`,
    );
    this.running.get(taskId)?.controller.abort(new SlipwayError('Cancelled', `task ${taskId} was cancelled${who}`));
    return (await this.store.tasks.get(taskId))!;
  }

  /** Resolves when the task has ended (for tests and `--wait` inside the process). */
  async settled(taskId: number): Promise<TaskRow> {
    await this.running.get(taskId)?.done;
    return (await this.store.tasks.get(taskId))!;
  }

  /**
   * Stops every running task at its next await; they stay `processing`, and their leases are released so
   * another replica (or the next start) resumes them at once.
   */
  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    const paused = [...this.running.keys()].filter((id) => !this.lost.has(id));
    for (const { controller } of this.running.values())
      controller.abort(new SlipwayError('Cancelled', 'the control plane is stopping'));
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    await Promise.allSettled([this.renewing, this.claiming]);
    await this.leases
      .release(paused)
      .catch((e) =>
        this.logger.warn('could not release task leases; they lapse on their own', { error: (e as Error).message }),
      );
  }

  private start(task: TaskRow): void {
    if (this.running.has(task.id) || this.stopping) return;
    this.lost.delete(task.id);
    const controller = new AbortController();
    const done = this.execute(task.id, controller).finally(() => this.running.delete(task.id));
    this.running.set(task.id, { controller, done, leaseUntil: this.clock.now() + this.leases.timings.leaseMs });
  }

  private definition(type: string): TaskDefinition<any> {
    const definition = this.definitions.get(type as TaskType);
    if (!definition) throw new SlipwayError('Internal', `no task definition for ${type}`);
    return definition;
  }

  private async execute(taskId: number, controller: AbortController): Promise<void> {
    let task = (await this.store.tasks.get(taskId))!;
    const definition = this.definition(task.type);
    const cluster = task.cluster_uuid ? await this.store.clusters.findByUuid(task.cluster_uuid) : undefined;
    if (!cluster) {
      await this.finish(taskId, 'error', new SlipwayError('Internal', `task ${taskId} refers to a missing cluster`));
      return;
    }
    if (task.state === 'queued') {
      await this.store.tasks.update(taskId, { state: 'processing', started_at: isoNow(this.clock) });
      task = (await this.store.tasks.get(taskId))!;
      await this.emit(task, 'task.started', `task ${taskId} started`, { type: task.type, state: task.state });
    }
    const context = this.contextFor(task, cluster, controller.signal);
    const steps = await this.store.tasks.steps(taskId);
    let current: { seq: number; name: string } | undefined;
    try {
      for (const step of steps) {
        if (step.state === 'done' || step.state === 'skipped') continue;
        // The safe point: a step starts only under this replica's lease.
        const fresh = await this.store.tasks.get(taskId);
        if (fresh?.owner !== this.leases.owner) this.lose(taskId, `it is owned by ${fresh?.owner ?? 'nobody'}`);
        throwIfAborted(controller.signal);
        if (fresh?.cancel_requested) throw new SlipwayError('Cancelled', `task ${taskId} was cancelled`);
        current = step;
        await this.store.tasks.updateStep(taskId, step.seq, {
          state: 'running',
          started_at: step.started_at ?? isoNow(this.clock),
        });
        await this.store.tasks.log(taskId, isoNow(this.clock), 'info', `step ${step.name} started`);
        await this.emit(task, 'task.step.started', `step ${step.name} started`, {
          step: step.name,
          seq: step.seq,
          state: 'running',
        });
        const began = this.clock.now();
        await definition.run(step.name, context);
        await this.store.tasks.updateStep(taskId, step.seq, { state: 'done', finished_at: isoNow(this.clock) });
        await this.store.tasks.update(taskId, { waiting_for: null });
        await this.emit(task, 'task.step.finished', `step ${step.name} done`, {
          step: step.name,
          seq: step.seq,
          state: 'done',
          duration_ms: this.clock.now() - began,
        });
      }
      current = undefined;
      await definition.onDone?.(context);
      await context.log('info', 'task done');
      await this.finish(taskId, 'done', null);
    } catch (e) {
      // An abort surfaces as whatever the interrupted call threw; the signal's reason says who and why.
      const reason =
        controller.signal.aborted && SlipwayError.is(controller.signal.reason) ? controller.signal.reason : undefined;
      const error = reason && SlipwayError.from(e).code === 'Cancelled' ? reason : SlipwayError.from(e);
      if (this.lost.has(taskId)) {
        // Another replica owns it now and resumes it from its persisted steps: nothing here may write.
        this.logger.info('task left to its new owner', { task: taskId, step: current?.name });
        return;
      }
      if (this.stopping && !(await this.store.tasks.get(taskId))?.cancel_requested) {
        // A shutdown, not a failure: leave the task processing; the next start resumes it.
        this.logger.info('task paused by shutdown', { task: taskId, step: current?.name });
        if (current) await this.store.tasks.updateStep(taskId, current.seq, { state: 'pending' });
        return;
      }
      const cancelled = error.code === 'Cancelled';
      if (current) {
        const state = cancelled ? 'skipped' : 'failed';
        await this.store.tasks.updateStep(taskId, current.seq, {
          state,
          finished_at: isoNow(this.clock),
          detail: error.message,
        });
        await this.emit(
          task,
          'task.step.finished',
          `step ${current.name} ${state}: ${error.message}`,
          { step: current.name, seq: current.seq, state },
          'warning',
        );
      }
      await context.log(
        'error',
        `${cancelled ? 'cancelled' : 'failed'}${current ? ` in step ${current.name}` : ''}: ${error.message}`,
      );
      try {
        await definition.onFailure?.(context);
      } catch (hookError) {
        this.logger.error('failure hook failed', { task: taskId, error: (hookError as Error).message });
      }
      await this.finish(taskId, cancelled ? 'cancelled' : 'error', error);
    }
  }

  /** Ends a task, only while this replica owns it: a replica that lost it must not end it under its new owner. */
  private async finish(
    taskId: number,
    state: 'done' | 'error' | 'cancelled',
    error: SlipwayError | null,
  ): Promise<void> {
    const ended = await this.store.tasks.updateOwned(taskId, this.leases.owner, {
      state,
      ended_at: isoNow(this.clock),
      waiting_for: null,
      lease_expires_at: null,
      error: error ? JSON.stringify(error.toJSON()) : null,
    });
    if (!ended) {
      this.logger.warn('task not ended here: another replica owns it now', { task: taskId, state });
      return;
    }
    const task = await this.store.tasks.get(taskId);
    if (task) {
      await this.emit(
        task,
        'task.finished',
        `task ${taskId} ${state}${error ? `: ${error.message}` : ''}`,
        { type: task.type, state, ...(error ? { code: error.code } : {}) },
        state === 'done' ? 'info' : 'warning',
      );
    }
  }

  /** Task progress goes to the event stream (and its log), so `--wait` and the dashboard follow it live. */
  private async emit(
    task: TaskRow,
    kind: string,
    message: string,
    details: Record<string, unknown>,
    severity: 'info' | 'warning' = 'info',
  ): Promise<void> {
    await this.store.events.record({
      at: isoNow(this.clock),
      cluster_uuid: task.cluster_uuid,
      instance_id: null,
      task_id: task.id,
      kind,
      severity,
      message: message.slice(0, 500),
      details,
    });
  }

  private contextFor(task: TaskRow, cluster: ClusterRow, signal: AbortSignal): StepContext {
    const store = this.store;
    const clock = this.clock;
    const emit = this.emit.bind(this);
    let stepSeq = -1;
    // A step that repeats the same detail while it polls streams it once.
    let lastDetail: string | undefined;
    let lastWaiting: string | null | undefined;
    const params = JSON.parse(task.params) as unknown;
    return {
      task,
      cluster,
      params,
      signal,
      async log(level, message) {
        await store.tasks.log(task.id, isoNow(clock), level, message);
        await emit(task, 'task.log', message, { level }, level === 'warn' || level === 'error' ? 'warning' : 'info');
      },
      async detail(text) {
        const steps = await store.tasks.steps(task.id);
        const running = steps.find((s) => s.state === 'running');
        stepSeq = running?.seq ?? stepSeq;
        if (stepSeq >= 0) {
          await store.tasks.updateStep(task.id, stepSeq, { detail: text });
          if (`${stepSeq}|${text}` === lastDetail) return;
          lastDetail = `${stepSeq}|${text}`;
          await emit(task, 'task.step.detail', text, { seq: stepSeq, ...(running ? { step: running.name } : {}) });
        }
      },
      async waitingFor(text) {
        await store.tasks.update(task.id, { waiting_for: text });
        if (text === lastWaiting) return;
        lastWaiting = text;
        if (text) await emit(task, 'task.waiting', `waiting for ${text}`, { waiting_for: text });
      },
    };
  }
}
