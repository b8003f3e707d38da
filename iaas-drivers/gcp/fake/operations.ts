import { randomBytes } from 'node:crypto';
import type { FakeScheduler } from '@slipway/simulation';
import { newId, timestamp } from './state.js';

/** How an operation ends when it fails: `error.errors[0]` plus the HTTP status GCE records with it. */
export interface OperationFailure {
  code: string;
  message: string;
  httpStatus?: number;
  /** The failed instances.insert leaves its instance behind, TERMINATED (GCE does that when a late step fails). */
  leavesInstance?: boolean;
}

const HTTP_MESSAGES: Record<number, string> = {
  400: 'BAD REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT FOUND',
  409: 'CONFLICT',
  412: 'PRECONDITION FAILED',
  429: 'TOO MANY REQUESTS',
  500: 'INTERNAL SERVER ERROR',
  503: 'SERVICE UNAVAILABLE',
};

/** A zonal or global Operation resource. */
export interface FakeOperation {
  id: string;
  name: string;
  /** The zone for zonal operations; undefined for global ones. */
  zone?: string;
  operationType: string;
  targetLink: string;
  targetId: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  progress: number;
  insertTime: string;
  startTime?: string;
  endTime?: string;
  user: string;
  failure?: OperationFailure;
}

/** What an operation does: its side effects as it starts and when it completes, or how it undoes itself on failure. */
export interface OperationWork {
  /** PENDING -> RUNNING (an instance goes STAGING...). */
  running?(): void;
  /** RUNNING -> DONE: the effect. May fail the operation after all by returning a failure. */
  done(): void | OperationFailure | Promise<void | OperationFailure>;
  /** The operation failed (an injected failure, a quota): undo what `running` did. */
  failed?(failure: OperationFailure): void | Promise<void>;
}

export interface StartOperation {
  zone?: string;
  operationType: string;
  targetLink: string;
  targetId: string;
  user: string;
  /** Total time from insert to DONE, ms. */
  durationMs: number;
  work: OperationWork;
  /** Decided at insert time (a quota, an injected failure): the operation ends with it. */
  failure?: OperationFailure;
}

/**
 * The fake's operations: PENDING at insert, RUNNING a little later, DONE after their duration, with
 * `error` when they fail. Waiters (`zoneOperations.wait`) are released as soon as an operation is DONE.
 * Request ids are remembered as GCE remembers them: a repeated requestId gets the first operation back.
 */
export class FakeOperations {
  readonly all = new Map<string, FakeOperation>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly requestIds = new Map<string, { operation: FakeOperation; at: number }>();

  constructor(
    private readonly scheduler: FakeScheduler,
    private readonly pendingMs: number,
    private readonly requestIdRetentionMs: number,
  ) {}

  /** The operation a requestId already started, within GCE's retention window. */
  byRequestId(requestId: string): FakeOperation | undefined {
    const seen = this.requestIds.get(requestId);
    if (!seen) return undefined;
    if (Date.now() - seen.at > this.requestIdRetentionMs) {
      this.requestIds.delete(requestId);
      return undefined;
    }
    return seen.operation;
  }

  start(input: StartOperation, requestId?: string): FakeOperation {
    const now = Date.now();
    const operation: FakeOperation = {
      id: newId(),
      name: `operation-${now}-${randomBytes(7).toString('hex').slice(0, 13)}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`,
      ...(input.zone ? { zone: input.zone } : {}),
      operationType: input.operationType,
      targetLink: input.targetLink,
      targetId: input.targetId,
      status: 'PENDING',
      progress: 0,
      insertTime: timestamp(now),
      user: input.user,
    };
    this.all.set(operation.name, operation);
    if (requestId) this.requestIds.set(requestId, { operation, at: now });
    const pendingMs = Math.min(this.pendingMs, input.durationMs);
    this.scheduler.later(pendingMs, async () => {
      operation.status = 'RUNNING';
      operation.startTime = timestamp();
      if (input.failure) {
        await this.finish(operation, input.work, input.failure);
        return;
      }
      input.work.running?.();
      this.scheduler.later(Math.max(0, input.durationMs - pendingMs), async () => {
        const failure = await input.work.done();
        await this.finish(operation, input.work, failure ?? undefined);
      });
    });
    return operation;
  }

  /** Resolves when the operation is DONE, or after `timeoutMs` (GCE's wait answers within two minutes, DONE or not). */
  async waitDone(operation: FakeOperation, timeoutMs: number): Promise<void> {
    if (operation.status === 'DONE') return;
    await new Promise<void>((resolve) => {
      const set = this.waiters.get(operation.name) ?? new Set();
      const release = () => {
        clearTimeout(timer);
        set.delete(release);
        resolve();
      };
      const timer = setTimeout(release, timeoutMs);
      set.add(release);
      this.waiters.set(operation.name, set);
    });
  }

  /** Releases every waiter (the fake is stopping). */
  releaseAll(): void {
    for (const set of this.waiters.values()) for (const release of [...set]) release();
    this.waiters.clear();
  }

  view(operation: FakeOperation, baseUrl: string, project: string): Record<string, unknown> {
    const scope = operation.zone ? `zones/${operation.zone}` : 'global';
    return {
      kind: 'compute#operation',
      id: operation.id,
      name: operation.name,
      ...(operation.zone ? { zone: `${baseUrl}/compute/v1/projects/${project}/zones/${operation.zone}` } : {}),
      operationType: operation.operationType,
      targetLink: operation.targetLink,
      targetId: operation.targetId,
      status: operation.status,
      user: operation.user,
      progress: operation.progress,
      insertTime: operation.insertTime,
      ...(operation.startTime ? { startTime: operation.startTime } : {}),
      ...(operation.endTime ? { endTime: operation.endTime } : {}),
      ...(operation.failure
        ? {
            error: { errors: [{ code: operation.failure.code, message: operation.failure.message }] },
            httpErrorStatusCode: operation.failure.httpStatus ?? 400,
            httpErrorMessage: HTTP_MESSAGES[operation.failure.httpStatus ?? 400] ?? 'ERROR',
          }
        : {}),
      selfLink: `${baseUrl}/compute/v1/projects/${project}/${scope}/operations/${operation.name}`,
    };
  }

  private async finish(
    operation: FakeOperation,
    work: OperationWork,
    failure: OperationFailure | undefined,
  ): Promise<void> {
    if (failure) {
      operation.failure = failure;
      await work.failed?.(failure);
    }
    operation.status = 'DONE';
    operation.progress = 100;
    operation.endTime = timestamp();
    const set = this.waiters.get(operation.name);
    this.waiters.delete(operation.name);
    for (const release of [...(set ?? [])]) release();
  }
}
