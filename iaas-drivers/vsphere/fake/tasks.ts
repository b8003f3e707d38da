import type { FakeScheduler } from '@slipway/simulation';
import type { MoRef } from '../src/soap.js';
import { VimFaultError, type FaultPlan } from './faults.js';
import type { FakeInventory, FakeTask } from './state.js';
import type { TypedValue } from './xml-out.js';

/**
 * What a task's work gives back when it runs: its result, or a `commit` that makes the change visible when
 * the task completes (a clone's VM appears only then), and a `release` run at completion either way.
 */
export interface TaskWork {
  result?: TypedValue;
  commit?: () => TypedValue | undefined;
  release?: () => void;
}

/** Finished tasks stay readable this long, as in vCenter's task manager. */
const RETENTION_MS = 10 * 60_000;

/**
 * vCenter Tasks: `queued`, then `running` (the work happens: it mutates the inventory or throws a vim25
 * fault), then after the task's duration `success` with a result or `error` with the fault. A fault a test
 * queued with failNextTask ends the task in error without doing the work.
 */
export class TaskRunner {
  private started = 0;

  constructor(
    private readonly inventory: FakeInventory,
    private readonly scheduler: FakeScheduler,
    private readonly faults: FaultPlan,
  ) {}

  start(
    method: string,
    descriptionId: string,
    entity: { ref: MoRef; name?: string } | undefined,
    durationMs: number,
    work: () => TaskWork | void | Promise<TaskWork | void>,
  ): MoRef {
    this.prune();
    const task: FakeTask = {
      kind: 'Task',
      ref: { type: 'Task', value: this.inventory.nextId('task') },
      method,
      descriptionId,
      entity: entity?.ref,
      entityName: entity?.name,
      state: 'queued',
      queueTime: Date.now(),
      userName: this.inventory.user.name,
      eventChainId: this.inventory.nextEventChainId(),
    };
    this.inventory.add(task);
    const injected = this.faults.takeTask(method);
    this.scheduler.later(1, async () => {
      task.state = 'running';
      task.startTime = Date.now();
      let done: TaskWork | void;
      let error: VimFaultError | undefined;
      if (injected) {
        error = new VimFaultError(injected.type, injected.message, injected.detail ?? '');
      } else {
        try {
          done = await work();
        } catch (thrown) {
          error = asFault(thrown);
        }
      }
      this.scheduler.later(durationMs, () => {
        let result = done ? done.result : undefined;
        if (!error && done?.commit) {
          try {
            result = done.commit();
          } catch (thrown) {
            error = asFault(thrown);
          }
        }
        done?.release?.();
        task.completeTime = Date.now();
        if (error) {
          task.state = 'error';
          task.error = error;
        } else {
          task.state = 'success';
          task.result = result;
        }
      });
    });
    return task.ref;
  }

  private prune(): void {
    this.started += 1;
    if (this.started % 256 !== 0) return;
    const cutoff = Date.now() - RETENTION_MS;
    for (const task of this.inventory.tasks.values()) {
      if (task.completeTime !== undefined && task.completeTime < cutoff) this.inventory.tasks.delete(task.ref.value);
    }
  }
}

function asFault(thrown: unknown): VimFaultError {
  return thrown instanceof VimFaultError
    ? thrown
    : new VimFaultError(
        'SystemError',
        `A general system error occurred: ${(thrown as Error)?.message ?? String(thrown)}`,
      );
}
