import type { ClusterRow, TaskRow } from '../store/index.js';

/**
 * PKS's actions, plus the health monitor's: RESURRECT (BOSH's cck_scan_and_fix after a missed heartbeat or
 * a vanished VM) and REPAIR (the fixes an operator chose in `slipway doctor`).
 */
export const TASK_TYPES = ['CREATE', 'UPDATE', 'UPGRADE', 'DELETE', 'RESURRECT', 'REPAIR', 'ROTATE'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** BOSH's task states. */
export const TASK_STATES = ['queued', 'processing', 'cancelling', 'cancelled', 'done', 'error', 'timeout'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const STEP_STATES = ['pending', 'running', 'done', 'failed', 'skipped'] as const;
export type StepState = (typeof STEP_STATES)[number];

/** What a step sees while it runs. */
export interface StepContext<P = unknown> {
  task: TaskRow;
  cluster: ClusterRow;
  params: P;
  /** Fires on cancel-task and on shutdown; long waits must honour it. */
  signal: AbortSignal;
  log(level: 'info' | 'warn' | 'error', message: string): Promise<void>;
  /** A short line shown next to the step (`3 of 5 VMs created`). */
  detail(text: string): Promise<void>;
  /** What the task is blocked on right now, or null (`agents of worker/1, worker/2`). */
  waitingFor(text: string | null): Promise<void>;
}

/**
 * A kind of task: its steps, in order. Every step is idempotent: the runner persists its state before and
 * after it runs, and after a crash re-runs the step that was running.
 */
export interface TaskDefinition<P = unknown> {
  type: TaskType;
  /** Step names, fixed when the task is created (so progress has a total). */
  steps(params: P): string[];
  run(step: string, context: StepContext<P>): Promise<void>;
  /** Runs once when the task ends in error or cancellation (e.g. mark the cluster failed). */
  onFailure?(context: StepContext<P>): Promise<void>;
  /** Runs once when every step is done. */
  onDone?(context: StepContext<P>): Promise<void>;
}
