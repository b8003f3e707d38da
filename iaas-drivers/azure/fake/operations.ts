import type { Schedule } from './api-versions.js';
import { ArmHttpError } from './http.js';
import {
  SEGMENT,
  subscriptionPath,
  type FakeContext,
  type InjectedOperationFailure,
  type Reply,
  type Route,
} from './routes.js';
import { armTime, newGuid } from './state.js';

export type OperationState = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

/** An asynchronous operation ARM accepted: what the Azure-AsyncOperation and Location URLs report on. */
export interface FakeOperation {
  id: string;
  schedule: Extract<Schedule, 'compute' | 'disks' | 'network'>;
  apiVersion: string;
  method: 'PUT' | 'PATCH' | 'DELETE' | 'POST';
  status: OperationState;
  startTime: string;
  endTime?: string;
  failure?: InjectedOperationFailure;
  /** The resource's body once done (PUT, PATCH), answered by the Location URL. */
  result?: () => unknown;
}

export interface OperationSpec {
  /** The operationId, to find a failure queued with `failNextOperation`. */
  operation: string;
  schedule: FakeOperation['schedule'];
  apiVersion: string;
  method: FakeOperation['method'];
  delayMs: number;
  /**
   * Applies the operation's effect when it succeeds (a VM becomes Succeeded and boots). Answering a failure
   * instead cancels the operation with it: a later operation preempted this one (a delete during a create).
   */
  succeed: () => void | InjectedOperationFailure | Promise<void>;
  /** Applies a failure's effect (a VM becomes Failed). */
  fail?: (failure: InjectedOperationFailure) => void;
  result?: () => unknown;
}

/**
 * The operations the fake accepted, by id. Each finishes after its delay, with the effect its resource
 * provider gives it, or with a failure queued for its operationId.
 */
export class OperationRegistry {
  private readonly operations = new Map<string, FakeOperation>();

  constructor(private readonly ctx: () => FakeContext) {}

  start(spec: OperationSpec): FakeOperation {
    const ctx = this.ctx();
    const failure = ctx.lro.failures.get(spec.operation)?.shift();
    const operation: FakeOperation = {
      id: newGuid(),
      schedule: spec.schedule,
      apiVersion: spec.apiVersion,
      method: spec.method,
      status: 'InProgress',
      startTime: armTime(),
      ...(spec.result ? { result: spec.result } : {}),
    };
    this.operations.set(operation.id, operation);
    ctx.scheduler.later(spec.delayMs, async () => {
      if (failure) {
        spec.fail?.(failure);
        Object.assign(operation, { status: 'Failed', failure, endTime: armTime() });
        return;
      }
      const preempted = await spec.succeed();
      if (preempted) {
        Object.assign(operation, { status: 'Canceled', failure: preempted, endTime: armTime() });
        return;
      }
      Object.assign(operation, { status: 'Succeeded', endTime: armTime() });
    });
    return operation;
  }

  get(id: string): FakeOperation | undefined {
    return this.operations.get(id);
  }

  /**
   * The reply announcing an accepted operation. By default each answers as its RP does: a PUT or PATCH 200/201
   * with the resource and `Azure-AsyncOperation`; a DELETE, POST, or disk-RP write 202 with both
   * `Azure-AsyncOperation` and `Location`. `lro.style` forces one header (a PUT then answers 202 without a body).
   */
  accepted(operation: FakeOperation, status: 200 | 201 | 202, body?: unknown): Reply {
    const ctx = this.ctx();
    const style = ctx.lro.style;
    const headers: Record<string, string> = {};
    const both = status === 202;
    if (style !== 'location') headers['azure-asyncoperation'] = this.statusUrl(operation);
    if (style === 'location' || (both && style === undefined)) headers.location = this.resultUrl(operation);
    if (ctx.lro.retryAfterSeconds !== undefined) headers['retry-after'] = String(ctx.lro.retryAfterSeconds);
    if (style === 'location') return { status: 202, headers };
    return { status, headers, ...(body !== undefined ? { body } : {}) };
  }

  statusUrl(operation: FakeOperation): string {
    return `${this.ctx().baseUrl}${this.path(operation)}?api-version=${operation.apiVersion}`;
  }

  resultUrl(operation: FakeOperation): string {
    const path =
      operation.schedule === 'network'
        ? this.path(operation).replace(/\/operations\//, '/operationResults/')
        : this.path(operation);
    return `${this.ctx().baseUrl}${path}?${operation.schedule === 'network' ? '' : 'monitor=true&'}api-version=${operation.apiVersion}`;
  }

  private path(operation: FakeOperation): string {
    const ctx = this.ctx();
    const provider = operation.schedule === 'network' ? 'Microsoft.Network' : 'Microsoft.Compute';
    // The disk resource provider reports on its own collection, DiskOperations.
    const collection = operation.schedule === 'disks' ? 'DiskOperations' : 'operations';
    return `/subscriptions/${ctx.state.subscriptionId}/providers/${provider}/locations/${ctx.state.location}/${collection}/${operation.id}`;
  }
}

/** The routes Azure-AsyncOperation and Location URLs point at. */
export function operationRoutes(ctx: FakeContext): Route[] {
  const status = (schedule: FakeOperation['schedule'], collection: string, provider: string): Route => ({
    method: 'GET',
    path: subscriptionPath(`${provider}/locations/${SEGMENT}/${collection}/${SEGMENT}`),
    operation: 'OperationStatus_Get',
    schedule,
    resourceType: `${provider}/locations/${collection}`,
    handle: (call) => {
      const operation = find(ctx, call.params[2]!, schedule);
      // `monitor=true` marks a Location URL: 202 while running, then the result.
      return call.query.get('monitor') === 'true' ? result(ctx, operation) : statusOf(ctx, operation);
    },
  });
  return [
    status('compute', 'operations', 'Microsoft.Compute'),
    status('disks', 'DiskOperations', 'Microsoft.Compute'),
    status('network', 'operations', 'Microsoft.Network'),
    {
      method: 'GET',
      path: subscriptionPath(`Microsoft.Network/locations/${SEGMENT}/operationResults/${SEGMENT}`),
      operation: 'OperationResult_Get',
      schedule: 'network',
      resourceType: 'Microsoft.Network/locations/operationResults',
      handle: (call) => result(ctx, find(ctx, call.params[2]!, 'network')),
    },
  ];
}

function find(ctx: FakeContext, id: string, schedule: FakeOperation['schedule']): FakeOperation {
  const operation = ctx.operations.get(id.toLowerCase());
  if (!operation || operation.schedule !== schedule) {
    throw new ArmHttpError(404, 'NotFound', `The operation '${id}' was not found.`);
  }
  return operation;
}

function statusOf(ctx: FakeContext, operation: FakeOperation): Reply {
  const running = operation.status === 'InProgress';
  return {
    status: 200,
    headers:
      running && ctx.lro.retryAfterSeconds !== undefined ? { 'retry-after': String(ctx.lro.retryAfterSeconds) } : {},
    body: {
      name: operation.id,
      status: operation.status,
      startTime: operation.startTime,
      ...(operation.endTime ? { endTime: operation.endTime } : {}),
      ...(operation.failure ? { error: { code: operation.failure.code, message: operation.failure.message } } : {}),
    },
  };
}

function result(ctx: FakeContext, operation: FakeOperation): Reply {
  switch (operation.status) {
    case 'InProgress':
      return {
        status: 202,
        headers: {
          location: ctx.operations.resultUrl(operation),
          ...(ctx.lro.retryAfterSeconds !== undefined ? { 'retry-after': String(ctx.lro.retryAfterSeconds) } : {}),
        },
      };
    case 'Succeeded': {
      // A write's result is its resource; an action (restart) answers 200 without a body, a delete 204.
      if (operation.method === 'DELETE') return { status: 204 };
      const body = operation.method === 'POST' ? undefined : operation.result?.();
      return { status: 200, ...(body !== undefined ? { body } : {}) };
    }
    case 'Failed':
    case 'Canceled':
      throw new ArmHttpError(
        operation.failure?.status ?? 400,
        operation.failure?.code ?? 'OperationFailed',
        operation.failure?.message ?? 'The operation failed.',
      );
  }
}
